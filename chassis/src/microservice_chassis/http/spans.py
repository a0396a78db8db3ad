"""A span per request, when a tracer records them: begun before any check, ended with the answer's status and
error code, current (as the request's W3C trace) while the handler runs, for the clients it calls to carry on.

Probes and scrapes are no spans: a request whose URL matches OTEL_PYTHON_EXCLUDED_URLS (comma-separated regular
expressions, searched in `scheme://host/path?query` as OpenTelemetry's Python instrumentations do; unset:
EXCLUDED_BY_DEFAULT) is served as with tracing off, its caller's trace carried on.
"""

import os
import re
from typing import Any, BinaryIO

from microservice_chassis.http.rsgi_bridge import Headers, WsgiApp, call_wsgi
from microservice_chassis.log.client_text import printable
from microservice_chassis.tracing import trace_context
from microservice_chassis.tracing.request_tracer import Attributes, IRequestTracer, OpenSpan
from microservice_chassis.tracing.trace_context import TraceContext

# The variable OpenTelemetry's Python instrumentations read for the URLs they leave out.
EXCLUDED_URLS_VARIABLE = "OTEL_PYTHON_EXCLUDED_URLS"
# The liveness and readiness probes and the Prometheus scrape: a span each, every few seconds, says nothing.
EXCLUDED_BY_DEFAULT = r"^[^/]*//[^/]*/(heartbeat|status|metrics)/?(\?|$)"


def excluded_urls() -> re.Pattern[str] | None:
    """The URLs left out of tracing (None: none); OTEL_PYTHON_EXCLUDED_URLS set, even to nothing, replaces the
    default; ValueError naming a pattern that is not a regular expression."""
    value = os.environ.get(EXCLUDED_URLS_VARIABLE, EXCLUDED_BY_DEFAULT)
    patterns = [pattern.strip() for pattern in value.split(",") if pattern.strip()]
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"{EXCLUDED_URLS_VARIABLE}: {pattern!r} is not a regular expression ({error})") from None
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns)) if patterns else None


class RequestSpans:
    """Opens and ends the server spans of the endpoint's requests."""

    def __init__(self, tracer: IRequestTracer) -> None:
        self._tracer = tracer
        self._excluded = excluded_urls()

    def begin(self, scope: Any) -> OpenSpan | None:
        """The request's span, the child of the caller's trace as guards.trace_of reads it (else a new trace),
        begun before the guards so that a request they refuse has its span too; None for an excluded URL."""
        if self._excluded is not None and self._excluded.search(_url(scope)):
            return None
        parent = trace_context.parse(
            ",".join(scope.headers.get_all("traceparent")) or None,
            ",".join(scope.headers.get_all("tracestate")) or None,
        )
        attributes: Attributes = {
            "http.request.method": printable(scope.method),
            "url.path": printable(scope.path),
            "url.scheme": scope.scheme,
            "network.protocol.version": scope.http_version,
        }
        return self._tracer.start_span(printable(scope.method), "server", parent, attributes)

    @staticmethod
    def end(span: OpenSpan, method: str, status: int, correlation_id: str | None) -> None:
        """Ends the span with the status, the route served, the correlation id and an error's code; a 5xx marks it
        as failed (a 4xx is the client's mistake, not the server's failure: OpenTelemetry's HTTP conventions)."""
        attributes: Attributes = {"http.response.status_code": status}
        if correlation_id is not None:
            attributes["pip_services.correlation_id"] = correlation_id
        if span.route is not None:
            attributes["http.route"] = span.route
        code = span.error_code if status >= 400 else None
        if code is not None:
            attributes["error.type"] = code
        name = f"{printable(method)} {span.route}" if span.route is not None else printable(method)
        span.end(attributes, (code or str(status)) if status >= 500 else None, name)


def call_traced(app: WsgiApp, environ: dict[str, Any], trace: TraceContext | None, span: OpenSpan | None) -> Any:
    """call_wsgi with `trace` current while the app runs (on whichever thread runs it), noting the route the app
    matched on `span`."""
    if trace is None:
        return call_wsgi(app, environ)
    with trace_context.serving(trace):
        answer: tuple[int, Headers, bytes | BinaryIO] = call_wsgi(app, environ)
    route = environ.get("bottle.route")
    if span is not None and route is not None:
        span.route = route.rule
    return answer


def _url(scope: Any) -> str:
    """The request's URL as the excluded URLs are matched against it."""
    host = scope.authority or scope.headers.get("host") or ""
    query = f"?{scope.query_string}" if scope.query_string else ""
    return f"{scope.scheme}://{host}{scope.path}{query}"
