"""The HTTP clients' side of tracing: each call sends the W3C trace it belongs to and, when a tracer records
spans, is a span of its own, as OpenTelemetry's HTTP client conventions (stable) describe one.

The trace a call belongs to (trace_context.outgoing): the request being served on this thread (the endpoint
makes it current while a handler runs), else the correlation id given, when it is a trace id (the call's span is
then the first of that trace: it has no parent); else the call starts no trace and sends no `traceparent`.
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from pip_services3_commons.errors import ApplicationException
from pip_services3_commons.refer import IReferences

from microservice_chassis.tracing import trace_context
from microservice_chassis.tracing.request_tracer import Attributes, IRequestTracer, enabled_tracer

# The headers of the call running on this thread: pip_services3_rpc 3.3.4 RestClient._call sends `self._headers`,
# one dict per client, with no way to add a header to one call; a client shared by threads needs one per call
# (canary: test_library_defects, test_rest_client_still_sends_the_one_headers_dict_of_the_client_on_every_call).
_CALL_HEADERS: ContextVar[dict[str, str] | None] = ContextVar("chassis_call_headers", default=None)
# What url.full shows instead of credentials and query values (semconv's word for it).
REDACTED = "REDACTED"

if TYPE_CHECKING:  # for the checker, the mixin is what it mixes into (at run time, as RepairedHttpClient, nothing)
    from pip_services3_rpc.clients import RestClient as HttpClientBase
else:
    HttpClientBase = object


class TracedHttpClient(HttpClientBase):
    """A mixin for a RestClient or CommandableHttpClient subclass (listed first): `traceparent` and `tracestate`
    on every call of a trace, and a client span per call when a tracer (`chassis:tracer:*:*:1.0`) records.

    The span is named `{method} {url.template}` (`GET /hello_world/greeting`), with http.request.method,
    url.template, server.address, server.port, url.full (see full_url), pip_services.correlation_id, and
    http.response.status_code once an answer came; a failed call has error.type (see failure).
    """

    _span_tracer: IRequestTracer | None = None

    def set_references(self, references: IReferences) -> None:
        super().set_references(references)
        self._span_tracer = enabled_tracer(references)

    @property
    def _headers(self) -> dict[str, str]:
        """The headers RestClient._call sends: this call's when one is running on this thread."""
        return _CALL_HEADERS.get() or self._client_headers

    @_headers.setter
    def _headers(self, headers: dict[str, str]) -> None:
        self._client_headers = headers

    def _call(
        self, method: str, route: str, correlation_id: str | None = None, params: Any = None, data: Any = None
    ) -> Any:
        trace = trace_context.outgoing(correlation_id)
        tracer = self._span_tracer
        if trace is None and tracer is None:
            return super()._call(method, route, correlation_id, params, data)
        span = None
        if tracer is not None:
            attributes = self._span_attributes(method.upper(), route, correlation_id, params)
            span = tracer.start_span(f"{method.upper()} {attributes['url.template']}", "client", trace, attributes)
            trace = span.context
        assert trace is not None  # a span always has a context
        headers = {**self._client_headers, "traceparent": trace.traceparent()}
        if trace.tracestate:
            headers["tracestate"] = trace.tracestate
        token = _CALL_HEADERS.set(headers)
        try:
            with trace_context.serving(trace):  # the lines the call logs name its span
                result = super()._call(method, route, correlation_id, params, data)
        except BaseException as error:
            if span is not None:
                span.end(*failure(error))
            raise
        finally:
            _CALL_HEADERS.reset(token)
        if span is not None:
            span.end({"http.response.status_code": 200}, None)
        return result

    def _span_attributes(self, method: str, route: str, correlation_id: str | None, params: Any) -> Attributes:
        """The attributes known before the call (semconv asks for them at the span's start, for samplers): the
        server's address, port and URL only once `open` has resolved the service's URI."""
        target = urlsplit(self._route_url(route))
        attributes: Attributes = {"http.request.method": method, "url.template": target.path}
        if target.hostname:
            attributes["server.address"] = target.hostname
            attributes["server.port"] = target.port or (443 if target.scheme == "https" else 80)
            # The query RestClient sends: `params` and the correlation id, which it adds (add_correlation_id).
            attributes["url.full"] = full_url(target, self.add_correlation_id(dict(params or {}), correlation_id))
        if correlation_id is not None:
            attributes["pip_services.correlation_id"] = correlation_id
        return attributes

    def _route_url(self, route: str) -> str:
        """The URL RestClient._call requests, before its query: the service's URI, the base route and the route,
        joined as its private `__create_request_route` joins them."""
        uri: str = self._uri or ""
        base: str = self.fix_route(self._base_route) if uri else ""
        return uri + base + ("" if route.startswith("/") else "/") + route


def full_url(target: SplitResult, params: dict[str, Any]) -> str:
    """url.full without what semconv says it must not show: user:password@ becomes `REDACTED:REDACTED@`, and every
    query value is `REDACTED` (the rule here, simpler than semconv's list of sensitive keys: a value may be a name,
    or a token, whatever its key). One `key=REDACTED` per parameter sent: the route's own query's, then `params`'
    (but those that are None, which `requests` leaves out)."""
    netloc = target.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}:{REDACTED}@{netloc.rpartition('@')[2]}"
    keys = [key for key, _ in parse_qsl(target.query, keep_blank_values=True)]
    keys += [str(key) for key, value in params.items() if value is not None]
    return urlunsplit((target.scheme, netloc, target.path, urlencode([(key, REDACTED) for key in keys]), ""))


def failure(error: BaseException) -> tuple[Attributes, str]:
    """The attributes and the status message of the span of a call that raised `error`.

    pip_services3_rpc 3.3.4 RestClient raises an ApplicationException both when no answer came (a refused
    connection, a timeout: InvocationException REST_ERROR, status 500) and for an error answer, but only the first
    wraps the exception `requests` raised as its `cause`: an answer's cause is the server's text, or None. With no
    answer there is no status code; error.type is then the exception's class, fully qualified (semconv's choice),
    e.g. `requests.exceptions.ConnectionError`. An error answer has its status and its code as error.type.
    """
    if isinstance(error, ApplicationException):
        if isinstance(error.cause, BaseException):
            return {"error.type": qualified_name(error.cause)}, error.message
        return {"http.response.status_code": error.status or 0, "error.type": error.code}, error.message
    return {"error.type": qualified_name(error)}, str(error)


def qualified_name(error: BaseException) -> str:
    """The module and name of the error's class (the name alone for a builtin, e.g. `KeyboardInterrupt`)."""
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
