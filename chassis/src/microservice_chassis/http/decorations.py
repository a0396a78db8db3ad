"""What every answer carries (security headers, CORS) and the one access-log line per request."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from microservice_chassis.library_fixes.loggers import LevelCheckingCompositeLogger

from typing import Any

from pip_services3_components.log import LogLevel

from microservice_chassis.http.options import EndpointOptions
from microservice_chassis.http.rsgi_bridge import Headers
from microservice_chassis.log.client_text import printable

SECURITY_HEADERS: Headers = [
    ("X-Content-Type-Options", "nosniff"),
    # As the stock endpoint: API answers are never cached by browsers or proxies.
    ("Cache-Control", "no-cache, no-store, must-revalidate"),
]
CORS_METHODS = "GET, POST, PUT, DELETE, PATCH, OPTIONS"
# Request headers a page may always send besides the configured ones: the W3C trace context, so that a browser's
# calls join its page's trace (OpenTelemetry's web instrumentations send them).
TRACE_HEADERS = ("traceparent", "tracestate")
# Headers a page may read besides the safelisted ones: those some error answers carry (405 Allow, 503 Retry-After).
EXPOSED_HEADERS = "Allow, Retry-After"
# The `logger` of the access log's JSON lines.
LOGGER = "access"


class Decorations:
    """Headers added to every answer: the security headers, and CORS only for configured origins (the stock
    endpoint sent an empty Access-Control-Allow-Origin to everyone)."""

    def __init__(self, options: EndpointOptions) -> None:
        self._origins = set(options.cors_origins)
        self._any_origin = "*" in self._origins
        self._cors: Headers = [
            ("Access-Control-Allow-Methods", CORS_METHODS),
            ("Access-Control-Allow-Headers", ", ".join(dict.fromkeys((*options.cors_headers, *TRACE_HEADERS)))),
            ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
        ]

    def is_preflight(self, method: str, headers: Any) -> bool:
        """A browser's CORS preflight (`headers` as granian passes them), answered by the endpoint itself when
        origins are configured."""
        return method == "OPTIONS" and bool(self._origins) and headers.get("access-control-request-method") is not None

    def headers(self, origin: str | None, closing: bool) -> Headers:
        """The headers to add; `closing` asks the client to close the connection (the endpoint is closing, or a
        body was left unread)."""
        headers = SECURITY_HEADERS.copy()
        if origin and self._any_origin:  # no credentials are allowed, so "*" says it all: no Origin is echoed
            headers += [("Access-Control-Allow-Origin", "*"), *self._cors]
        elif origin in self._origins:
            headers += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"), *self._cors]
        if closing:
            headers.append(("Connection", "close"))
        return headers


class AccessLog:
    """One line per request, "GET /path 200 1.2 ms", at the configured level (5xx at ERROR, but a 503: that is a
    refusal the service chose, in maintenance or short of resources, logged once per burst where it is decided).
    In JSON lines (LOG_FORMAT=json) the same as fields: `method`, `route` (the path, bounded as the text line
    bounds it), `status`, `duration_ms`, with `logger` "access".

    The line is formatted only when a configured logger writes that level: at the default (debug, loggers at
    info) a request costs one comparison here.
    """

    def __init__(self, logger: LevelCheckingCompositeLogger, level: LogLevel) -> None:
        self._logger = logger
        self._level = level

    def log(self, correlation_id: str | None, method: str, path: str, status: int, milliseconds: float) -> None:
        level = LogLevel.Error if status > 503 or 500 <= status < 503 else self._level
        if not self._logger.writes(level):
            return
        method, route = printable(method), printable(path)
        message = f"{method} {route} {status} {milliseconds:.1f} ms"
        fields = {"method": method, "route": route, "status": status, "duration_ms": round(milliseconds, 3)}
        self._logger.log_event(level, correlation_id, message, LOGGER, fields)
