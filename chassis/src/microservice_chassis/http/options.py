"""The endpoint's options, read from its configuration once (per request they are plain attributes)."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

from dataclasses import dataclass

from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import ConfigException
from pip_services3_components.log import LogLevel, LogLevelConverter

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
    "options.max_connections", 16_384,
    "options.threads", 1,
    "options.access_log_level", "debug",
    "options.maintenance_enabled", False,
)  # fmt: skip

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
    max_connections: int
    threads: int
    access_log_level: LogLevel
    maintenance: bool
    cors_origins: tuple[str, ...]
    cors_headers: tuple[str, ...]

    @classmethod
    def from_config(cls, config: ConfigParams) -> "EndpointOptions":
        """Reads the options; a value that is not a positive number, or an unknown log level, is a ConfigException."""
        config = config.set_defaults(DEFAULTS)
        level = config.get_as_string("options.access_log_level").strip().lower()
        if level not in ACCESS_LOG_LEVELS:
            raise ConfigException(
                None,
                "INVALID_ACCESS_LOG_LEVEL",
                f"options.access_log_level must be one of {', '.join(ACCESS_LOG_LEVELS)}",
            )
        extra_headers = _names(config.get_as_string_with_default("cors_headers", ""))
        return cls(
            max_body=_positive(config, "options.request_max_size"),
            max_uri=_positive(config, "options.max_uri_size"),
            max_headers=_positive(config, "options.max_header_size"),
            header_timeout_ms=_positive(config, "options.header_read_timeout"),
            body_timeout=_positive(config, "options.body_read_timeout") / 1000,
            drain_timeout=_positive(config, "options.drain_timeout") / 1000,
            send_timeout=_positive(config, "options.send_timeout") / 1000,
            max_unread_per_connection=_positive(config, "options.max_unread_per_connection"),
            max_unread_total=_positive(config, "options.max_unread_total"),
            max_connections=_positive(config, "options.max_connections"),
            threads=_positive(config, "options.threads"),
            access_log_level=LogLevelConverter.to_log_level(level, LogLevel.Debug),
            maintenance=config.get_as_boolean("options.maintenance_enabled"),
            cors_origins=_names(config.get_as_string_with_default("cors_origins", "")),
            cors_headers=(*DEFAULT_CORS_HEADERS, *(h for h in extra_headers if h not in DEFAULT_CORS_HEADERS)),
        )


def _positive(config: ConfigParams, key: str) -> int:
    value: int | None = config.get_as_nullable_long(key)
    if value is None or value <= 0:
        raise ConfigException(None, "INVALID_OPTION", f"{key} must be a positive number, not {config.get(key)!r}")
    return value


def _names(text: str) -> tuple[str, ...]:
    """A comma-separated list, blanks dropped."""
    return tuple(name.strip() for name in text.split(",") if name.strip())
