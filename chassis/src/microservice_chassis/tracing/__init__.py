"""The parts of OpenTelemetryTracer, and the W3C trace context the endpoint and the HTTP clients share.

- trace_context: the W3C `traceparent` / `tracestate` headers, read and written; the trace of the request being served
- client_spans: the HTTP clients' side: a span per call and the `traceparent` it sends
- exporter: the OpenTelemetry SDK and its OTLP/HTTP exporter, imported only when tracing is on
- sdk_log: the SDK's own log records as the service's log lines, rate-limited
- settings: the standard OTEL_* variables checked: whether spans are wanted, and values that would lose them all
"""
