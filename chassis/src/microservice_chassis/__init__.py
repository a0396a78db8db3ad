"""The operational machinery of a Pip.Services microservice, as a package the service installs (the Microservice
Chassis pattern): what every service needs and none of them should write again.

- process: the start (run.py's first import), the Python check, stop signals, the output streams, the command line,
  the parameters, the config reader and the process container the service's own extends
- http: the shared HTTP endpoint on granian (GranianHttpEndpoint) and its parts
- services: the commandable HTTP service, the Swagger UI, the OpenAPI documents' shared parts
- metrics: Pip.Services counters and every HTTP answer as Prometheus series, and GET /metrics
- tracing: W3C trace context, OpenTelemetry spans per request and per client call
- log: the log line format (text or JSON), the escaping of client text, the writer threads, the log output component
- library_fixes: fixes for defects of the pinned libraries, each with its canary test
- build: the factory of the components above, under the descriptor group `chassis`
"""
