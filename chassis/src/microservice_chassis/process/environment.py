"""The environment variables the process reads besides its config parameters: `run.py --help` lists them.

The OpenTelemetry ones are read by the SDK itself (opentelemetry.sdk.environment_variables names them), but for
OTEL_EXPORTER_OTLP_ENDPOINT, which turns tracing on, and OTEL_PYTHON_EXCLUDED_URLS, read by the endpoint as the
OpenTelemetry Python instrumentations read it. Listed here, not taken from the SDK: with tracing off it is never
imported.
"""

from microservice_chassis.process.build_info import REVISION_VARIABLE

VARIABLES: tuple[tuple[str, str], ...] = (
    (REVISION_VARIABLE, "the source revision --version, /status and the build_info metric show (the image sets it; "
                        "default: the commit of the git checkout the service runs from, else unknown)"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "the OTLP/HTTP collector (http://collector:4318) spans are sent to, at "
                                    "<URL>/v1/traces; unset: no tracing, and OpenTelemetry is not even imported"),
    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "the whole URL spans are sent to instead (with the above set)"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "headers sent with every export, key=value,... (an API key); "
                                   "OTEL_EXPORTER_OTLP_TRACES_HEADERS wins"),
    ("OTEL_SDK_DISABLED", "true: no tracing, whatever the above"),
    ("OTEL_TRACES_EXPORTER", "otlp (the default), or none for no tracing; any other is refused at the start"),
    ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf, the only one spoken (so is OTEL_EXPORTER_OTLP_TRACES_PROTOCOL); "
                                    "any other is refused at the start"),
    ("OTEL_EXPORTER_OTLP_TIMEOUT", "seconds an export may take, retries included (shorter by default here than the "
                                   "SDK's 10: chassis/docs/process.md, Tracing); OTEL_EXPORTER_OTLP_TRACES_TIMEOUT "
                                   "wins"),
    ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip, or none"),
    ("OTEL_EXPORTER_OTLP_CERTIFICATE", "the CA bundle that verifies an https collector"),
    ("OTEL_SERVICE_NAME", "the spans' service.name (default: the service's name)"),
    ("OTEL_RESOURCE_ATTRIBUTES", "more attributes of every span's resource, key=value,..."),
    ("OTEL_TRACES_SAMPLER", "which traces are recorded, with OTEL_TRACES_SAMPLER_ARG (default parentbased_always_on)"),
    ("OTEL_BSP_MAX_QUEUE_SIZE", "spans waiting to be sent (default 2048); more are dropped and counted in "
                                "tracing_dropped_spans_total"),
    ("OTEL_BSP_SCHEDULE_DELAY", "milliseconds between exports (default 5000); the stop sends what is left"),
    ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "spans sent at most in one export (default 512)"),
    ("OTEL_PYTHON_EXCLUDED_URLS", "comma-separated regular expressions of the URLs not traced (default: /heartbeat, "
                                  "/status, /metrics)"),
)  # fmt: skip
