"""The standard OTEL_* variables, checked before the exporter is made: whether spans are wanted, and what would start
the service "ready" while every span is lost (a collector URL that is none, a certificate that is not there, a timeout
or a batch that cannot be): refused in one line naming the variable, as a parameter that cannot be used is.

The SDK reads the variables itself, but OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER only in its auto-configuration,
which the tracer does not use, and it tells a wrong value once, at the first export, in a log line, or in the words of
its own arguments (`max_queue_size must be a positive integer`).
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import math
import os
from urllib.parse import urlsplit

from pip_services3_commons.errors import ConfigException

from microservice_chassis.process.parameters import shown

# The standard variable naming where spans go: tracing is on when it is set.
ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
DISABLED_VARIABLE = "OTEL_SDK_DISABLED"
EXPORTER_VARIABLE = "OTEL_TRACES_EXPORTER"
# The traces' own variable first: it wins over the general one, as for every OTLP setting.
PROTOCOL_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
URL_VARIABLES = (ENDPOINT_VARIABLE, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
FILE_VARIABLES = tuple(
    f"OTEL_EXPORTER_OTLP{signal}_{kind}" for signal in ("", "_TRACES") for kind in ("CERTIFICATE", "CLIENT_KEY",
                                                                                    "CLIENT_CERTIFICATE")
)  # fmt: skip
SECONDS_VARIABLES = ("OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")
# The batch processor's, with the SDK's defaults: positive integers, a batch no larger than the queue.
QUEUE_VARIABLE, BATCH_VARIABLE = "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"
COUNT_DEFAULTS = {QUEUE_VARIABLE: 2048, BATCH_VARIABLE: 512, "OTEL_BSP_SCHEDULE_DELAY": 5000,
                  "OTEL_BSP_EXPORT_TIMEOUT": 30000}  # fmt: skip


def tracing_wanted() -> bool:
    """Whether the standard variables ask for spans: a collector named (OTEL_EXPORTER_OTLP_ENDPOINT), and neither
    OTEL_SDK_DISABLED=true nor OTEL_TRACES_EXPORTER=none; a ConfigException for what the tracer does not do (an
    exporter but OTLP, a protocol but http/protobuf) or a value that would lose every span."""
    if _value(DISABLED_VARIABLE).lower() == "true":
        return False
    exporter = _value(EXPORTER_VARIABLE).lower()
    if exporter == "none":
        return False
    if exporter not in ("", "otlp"):
        raise _refused(EXPORTER_VARIABLE, exporter, "is not an exporter of this service (otlp or none)")
    protocol_variable = next((variable for variable in PROTOCOL_VARIABLES if _value(variable)), None)
    protocol = _value(protocol_variable) if protocol_variable else ""
    if protocol_variable is not None and protocol != "http/protobuf":
        raise _refused(protocol_variable, protocol, "is not a protocol of this service (http/protobuf only)")
    if not _value(ENDPOINT_VARIABLE):
        return False
    _check_exporter_values()
    return True


def _check_exporter_values() -> None:
    for variable in URL_VARIABLES:
        url = urlsplit(value := _value(variable))
        if value and (url.scheme not in ("http", "https") or not url.hostname):
            raise _refused(variable, value, "is not an http:// or https:// URL")
    for variable in FILE_VARIABLES:
        if (value := _value(variable)) and not (os.path.isfile(value) and os.access(value, os.R_OK)):
            raise _refused(variable, value, "is not a readable file")
    for variable in SECONDS_VARIABLES:
        if (value := _value(variable)) and not _positive_seconds(value):
            raise _refused(variable, value, "is not a number of seconds above 0")
    counts = {}
    for variable, default in COUNT_DEFAULTS.items():
        value = _value(variable)
        if value and not (value.isdigit() and int(value) > 0):
            raise _refused(variable, value, "is not a whole number above 0")
        counts[variable] = int(value) if value else default
    if counts[BATCH_VARIABLE] > counts[QUEUE_VARIABLE]:
        raise _refused(
            BATCH_VARIABLE, str(counts[BATCH_VARIABLE]), f"is more than {QUEUE_VARIABLE} ({counts[QUEUE_VARIABLE]})"
        )


def _value(variable: str) -> str:
    return os.environ.get(variable, "").strip()


def _positive_seconds(value: str) -> bool:
    try:
        seconds = float(value)
    except ValueError:
        return False
    return math.isfinite(seconds) and seconds > 0


def _refused(variable: str, value: str, problem: str) -> ConfigException:
    return ConfigException(None, "INVALID_TRACING_SETTING", f"{variable}={shown(value)} {problem}")
