"""The endpoint's options, read from its configuration once (per request they are plain attributes)."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

from dataclasses import dataclass

from pip_services3_commons.config import ConfigParams
from pip_services3_commons.convert import BooleanConverter
from pip_services3_commons.errors import ConfigException
from pip_services3_components.log import LogLevel, LogLevelConverter

from microservice_chassis.http.granian_server import HEAD_BUFFER
from microservice_chassis.log import line_format

DEFAULTS = ConfigParams.from_tuples(
    "connection.protocol", "http",
    "connection.host", "0.0.0.0",
    "connection.port", 3000,
    "options.request_max_size", 1024 * 1024,
    "options.max_uri_size", 8 * 1024,
    "options.max_header_size", 16 * 1024,
    "options.header_read_timeout", 5000,
    "options.body_read_timeout", 10_000,
    "options.drain_timeout", 5000,
    "options.send_timeout", 30_000,
    "options.max_unread_per_connection", 64 * 1024,
    "options.max_unread_total", 32 * 1024 * 1024,
    # Requests receiving bodies, booked (guards.BufferedBudget): 64 MiB booked measured at most ~90 MB resident
    # (41 KB per 32 KiB booked), which with the process (49 MB), 16,384 idle connections (2.5 KB each) and
    # max_unread_total stays under the Deployment's 256 MiB.
    "options.max_buffered_total", 64 * 1024 * 1024,
    "options.max_connections", 16_384,
    "options.threads", 1,
    "options.access_log_level", "debug",
    "options.maintenance_enabled", False,
)  # fmt: skip

# The keys that each take one value: a list or a map there (`port: [1, 2]`) would be flattened into sub-keys
# (connection.port.0) and the key itself left to its default, so it is refused instead.
SINGLE_VALUED = (*DEFAULTS.keys(), "connection.uri", "credential.ssl_crt_file", "credential.ssl_key_file",
                 "cors_origins", "cors_headers")  # fmt: skip
# The longest time option, in ms: a timeout of more than an hour protects nothing (a client stalling that long
# holds its slot as if there were no deadline), so a larger value is a unit mistake (seconds for ms) or 1e99.
MAX_MILLISECONDS = 3_600_000
# Bytes held in memory (a body read whole, answers not yet read): the Deployment's whole memory limit (256 MiB);
# one request or the answers together may not take more than the pod has.
MAX_MEMORY_BYTES = 256 * 1024 * 1024
# hyper's buffer for a request head: a larger target or headers never reach the endpoint (granian refuses them
# first), so a larger limit would promise what is never allowed.
MAX_HEAD_BYTES = HEAD_BUFFER
# Linux's default fs.nr_open, the most any process's open-files limit may be: one connection holds one file.
MAX_CONNECTIONS = 1024 * 1024
# Handler threads: each waits on one I/O at a time and costs a stack; more than this is a typo, not a pool.
MAX_THREADS = 256
# Each numeric option: its maximum and what it counts, as the error says it.
NUMERIC = {
    "options.request_max_size": (MAX_MEMORY_BYTES, "bytes"),
    "options.max_uri_size": (MAX_HEAD_BYTES, "bytes"),
    "options.max_header_size": (MAX_HEAD_BYTES, "bytes"),
    "options.header_read_timeout": (MAX_MILLISECONDS, "milliseconds"),
    "options.body_read_timeout": (MAX_MILLISECONDS, "milliseconds"),
    "options.drain_timeout": (MAX_MILLISECONDS, "milliseconds"),
    "options.send_timeout": (MAX_MILLISECONDS, "milliseconds"),
    "options.max_unread_per_connection": (MAX_MEMORY_BYTES, "bytes"),
    "options.max_unread_total": (MAX_MEMORY_BYTES, "bytes"),
    "options.max_buffered_total": (MAX_MEMORY_BYTES, "bytes"),
    "options.max_connections": (MAX_CONNECTIONS, "connections"),
    "options.threads": (MAX_THREADS, "threads"),
}

# Headers a browser may send cross-origin besides the CORS-safelisted ones.
DEFAULT_CORS_HEADERS = ("correlation_id", "Content-Type", "Authorization")
# The levels a line may have, and `nothing` to write no access log from a config file.
ACCESS_LOG_LEVELS = (*line_format.LEVELS, "nothing")


@dataclass(frozen=True)
class EndpointOptions:
    """Limits, timeouts and policies of the endpoint (see GranianHttpEndpoint for their meaning)."""

    max_body: int
    max_uri: int
    max_headers: int
    header_timeout_ms: int
    body_timeout: float
    drain_timeout: float
    send_timeout: float
    max_unread_per_connection: int
    max_unread_total: int
    max_buffered_total: int
    max_connections: int
    threads: int
    access_log_level: LogLevel
    maintenance: bool
    cors_origins: tuple[str, ...]
    cors_headers: tuple[str, ...]

    @classmethod
    def from_config(cls, config: ConfigParams) -> "EndpointOptions":
        """Reads the options; a value of the wrong type or out of its range is a ConfigException naming the key and
        the entry (see `invalid`)."""
        for key in config:
            if single := next((name for name in SINGLE_VALUED if key.startswith(f"{name}.")), None):
                raise invalid(config, single, "must be one value, not a list or map", config.get_section(single))
        config = config.set_defaults(DEFAULTS)
        level = config.get_as_string("options.access_log_level").strip().lower()
        if level not in ACCESS_LOG_LEVELS:
            raise invalid(config, "options.access_log_level", f"must be one of {', '.join(ACCESS_LOG_LEVELS)}")
        maintenance = BooleanConverter.to_nullable_boolean(config.get("options.maintenance_enabled"))
        if maintenance is None:
            raise invalid(config, "options.maintenance_enabled", "must be true or false")
        number = {key: _bounded(config, key, *bounds) for key, bounds in NUMERIC.items()}
        extra_headers = _names(config.get_as_string_with_default("cors_headers", ""))
        return cls(
            max_body=number["options.request_max_size"],
            max_uri=number["options.max_uri_size"],
            max_headers=number["options.max_header_size"],
            header_timeout_ms=number["options.header_read_timeout"],
            body_timeout=number["options.body_read_timeout"] / 1000,
            drain_timeout=number["options.drain_timeout"] / 1000,
            send_timeout=number["options.send_timeout"] / 1000,
            max_unread_per_connection=number["options.max_unread_per_connection"],
            max_unread_total=number["options.max_unread_total"],
            max_buffered_total=number["options.max_buffered_total"],
            max_connections=number["options.max_connections"],
            threads=number["options.threads"],
            access_log_level=LogLevelConverter.to_log_level(level, LogLevel.Debug),
            maintenance=maintenance,
            cors_origins=_names(config.get_as_string_with_default("cors_origins", "")),
            cors_headers=(*DEFAULT_CORS_HEADERS, *(h for h in extra_headers if h not in DEFAULT_CORS_HEADERS)),
        )


def invalid(config: ConfigParams, key: str, expected: str, value: object = None) -> ConfigException:
    """The one-line error for a wrong value: `key must ..., not 'value' (in descriptor)`, the entry named by the
    descriptor the container configured it from."""
    shown = config.get(key) if value is None else value
    entry = config.get_as_string_with_default("descriptor", "the HTTP endpoint's entry")
    return ConfigException(None, "INVALID_OPTION", f"{key} {expected}, not {shown!r} (in {entry})")


def integer(value: object) -> int | None:
    """An integer as YAML or config.yml's mustache gives it (an int, or a string of digits); None for anything
    else: a float, a boolean, 1e99."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = value.strip() if isinstance(value, str) else ""
    return int(text) if text.isascii() and text.isdigit() else None


def _bounded(config: ConfigParams, key: str, maximum: int, unit: str) -> int:
    value = integer(config.get(key))
    if value is None or not 0 < value <= maximum:
        shown = f"{maximum} (1 hour)" if maximum == MAX_MILLISECONDS else str(maximum)
        raise invalid(config, key, f"must be a positive number of {unit} up to {shown}")
    return value


def _names(text: str) -> tuple[str, ...]:
    """A comma-separated list, blanks dropped."""
    return tuple(name.strip() for name in text.split(",") if name.strip())
