"""The HTTP clients' side of tracing: each call sends the W3C trace it belongs to and, when a tracer records
spans, is a span of its own.

The trace a call belongs to (trace_context.outgoing): the request being served on this thread (the endpoint
makes it current while a handler runs), else the correlation id given, when it is a trace id; else the call
starts no trace and sends no `traceparent`.
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

from contextvars import ContextVar
from typing import Any

from pip_services3_commons.errors import ApplicationException
from pip_services3_commons.refer import IReferences

from microservice_chassis.tracing import trace_context
from microservice_chassis.tracing.request_tracer import Attributes, IRequestTracer, enabled_tracer

# The headers of the call running on this thread: pip_services3_rpc 3.3.4 RestClient._call sends `self._headers`,
# one dict per client, with no way to add a header to one call; a client shared by threads needs one per call
# (canary: test_library_defects, test_rest_client_still_sends_the_one_headers_dict_of_the_client_on_every_call).
_CALL_HEADERS: ContextVar[dict[str, str] | None] = ContextVar("chassis_call_headers", default=None)


class TracedHttpClient:
    """A mixin for a RestClient or CommandableHttpClient subclass (listed first): `traceparent` and `tracestate`
    on every call of a trace, and a client span per call when a tracer (`chassis:tracer:*:*:1.0`) records."""

    _span_tracer: IRequestTracer | None = None

    def set_references(self, references: IReferences) -> None:
        super().set_references(references)  # type: ignore[misc]
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
            return super()._call(method, route, correlation_id, params, data)  # type: ignore[misc]
        span = None
        if tracer is not None:
            attributes: Attributes = {"http.request.method": method.upper(), "url.template": route}
            uri: str | None = getattr(self, "_uri", None)  # RestClient's, set by open
            if uri:
                attributes["pip_services.service_uri"] = uri
            if correlation_id is not None:
                attributes["pip_services.correlation_id"] = correlation_id
            span = tracer.start_span(method.upper(), "client", trace, attributes)
            trace = span.context
        assert trace is not None  # a span always has a context
        headers = {**self._client_headers, "traceparent": trace.traceparent()}
        if trace.tracestate:
            headers["tracestate"] = trace.tracestate
        token = _CALL_HEADERS.set(headers)
        try:
            with trace_context.serving(trace):  # the lines the call logs name its span
                result = super()._call(method, route, correlation_id, params, data)  # type: ignore[misc]
        except ApplicationException as error:
            if span is not None:
                status = error.status or 0
                span.end({"http.response.status_code": status, "error.type": error.code}, error.message)
            raise
        except BaseException as error:
            if span is not None:
                span.end({"error.type": type(error).__name__}, str(error))
            raise
        finally:
            _CALL_HEADERS.reset(token)
        if span is not None:
            span.end({"http.response.status_code": 200}, None)
        return result
