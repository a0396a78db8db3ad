"""The order in which each request meets the endpoint's parts: guards, body, CORS preflight, bottle, errors,
decorations, access log. It is the RSGI handler granian calls, on the server's event loop."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from microservice_chassis.library_fixes.error_bodies import ERROR_KEY

import asyncio
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO, cast

import bottle
from pip_services3_commons.errors import ErrorDescription
from pip_services3_components.log import ILogger

from microservice_chassis.http.answers import AnswerSender, Large
from microservice_chassis.http.decorations import AccessLog, Decorations
from microservice_chassis.http.drain import Drain
from microservice_chassis.http.errors import (
    EXHAUSTED,
    FAULT_KEY,
    RequestRejectedError,
    error_answer,
    exhaustion,
    fault_event,
    internal_error,
    of_service_answer,
)
from microservice_chassis.http.guards import Guards, RequestHead
from microservice_chassis.http.options import EndpointOptions
from microservice_chassis.http.request_counters import ROUTE_REFUSALS, Counting, refused_route, route_template
from microservice_chassis.http.rsgi_bridge import Headers, environ_of
from microservice_chassis.http.spans import RequestSpans, call_traced
from microservice_chassis.log.client_text import printable
from microservice_chassis.tracing import trace_context
from microservice_chassis.tracing.request_tracer import IRequestTracer, OpenSpan

# Answered to a CORS preflight: how long a browser may cache it.
PREFLIGHT_HEADERS: Headers = [("Access-Control-Max-Age", "600")]
# A body, or an open file the endpoint streams from disk (see rsgi_bridge.FileBody, answers.py).
Answer = tuple[int, Headers, bytes | BinaryIO]


class RequestPipeline:
    """Answers each request, reporting each to the drain so that closing can let it finish.

    Handlers run on the event loop thread itself (options.threads 1: no hand-over between threads per request),
    or on a pool of that many threads for handlers that wait on I/O. Bodies are always read on the loop, with a
    deadline, before a handler runs: a client that stalls its body holds no thread.
    """

    def __init__(
        self,
        app: bottle.Bottle,
        options: EndpointOptions,
        logger: ILogger,
        access_log: AccessLog,
        count: Counting,
        tracer: IRequestTracer | None = None,
    ) -> None:
        # A bottle app: called as a WSGI app, and its router asked whether a request has a route.
        self._app = app
        self._guards = Guards(options)
        self._decorations = Decorations(options)
        self._logger = logger
        self._access_log = access_log
        self._count = count.answer  # every answer, once handed to the server (see request_counters)
        # Started on the first request, on the server's loop: the loop does not exist before the server starts.
        self._watch_loop: Callable[[asyncio.AbstractEventLoop], None] | None = count.watch_loop
        # A span per request only when a tracer records them: otherwise a request costs one comparison for them.
        self._spans = RequestSpans(tracer) if tracer is not None else None
        self.sender = AnswerSender(options, logger)
        self._pool = ThreadPoolExecutor(options.threads, "http-handler") if options.threads > 1 else None
        self.drain = Drain()  # every request is reported to it, so that closing can let them finish
        count.watch_in_flight(lambda: self.drain.in_flight)

    async def __call__(self, scope: Any, protocol: Any) -> None:
        started = time.perf_counter()  # the earliest the endpoint sees the request: granian has parsed its head
        self.drain.started()
        if self._watch_loop is not None:
            self._watch_loop(asyncio.get_running_loop())
            self._watch_loop = None
        span = self._spans.begin(scope) if self._spans is not None else None
        head: RequestHead | None = None
        large: Large | None = None
        body: bytes | BinaryIO  # a file only from _answer, which prepare turns into a Large answer
        try:
            if self._decorations.is_preflight(scope.method, scope.headers):
                # Before any check: a browser reports a refused preflight as a CORS failure, hiding from the page
                # the error its real request gets (with CORS headers).
                status, headers, body, correlation_id = 204, PREFLIGHT_HEADERS.copy(), b"", None
            else:
                head = self._guards.check_head(scope, self.drain.closing, span.context if span is not None else None)
                status, headers, body = await self._answer(scope, protocol, head, span)
                correlation_id = head.correlation_id
                large = self.sender.prepare(body, correlation_id)
        except RequestRejectedError as rejection:
            status, headers, body = _error_answer(span, rejection.description, rejection.headers)
            correlation_id = rejection.description.correlation_id
        except Exception as error:  # a fault of the endpoint itself: still one format, logged once, here
            correlation_id = head.correlation_id if head else None
            if (reason := exhaustion(error)) is None:
                self._logger.error(correlation_id, error, "Endpoint failed on %s", printable(scope.path))
                status, headers, body = _error_answer(span, internal_error(correlation_id))
            else:  # not a fault: out of descriptors or memory for now
                refusal = self.sender.refusal(reason, correlation_id)
                status, headers, body = _error_answer(span, refusal.description, refusal.headers)
        finally:
            self.drain.finished()
        # Whether a body may be left unread, so that the client is asked to close: no head means refused by the
        # guards, or a preflight (answered unchecked; browsers cache it for 600 s, so closing costs them little).
        unread_body = head is None or (head.has_body and status in (404, 405, 408, 413, 414, 431, 503))
        # A request the guards refused (or a preflight) has no head: its Origin is read from the request itself.
        origin = head.headers.get("HTTP_ORIGIN") if head else scope.headers.get("origin")
        headers += self._decorations.headers(origin, self.drain.closing or unread_body)
        route = head.route if head else None
        if route is None and status in ROUTE_REFUSALS:
            route = refused_route(self._app.router, scope.method, scope.path)
            if span is not None:
                span.route = route  # the span and the metrics name the same route
        # No await in here: the access line names the request's trace (the current one is set only around code that
        # does not yield to another request).
        with trace_context.serving(span.context if span is not None else head.trace if head is not None else None):
            if span is not None:
                RequestSpans.end(span, scope.method, status, correlation_id)
            # Logged before the answer leaves: whoever reads the answer finds its line already written.
            elapsed_ms = (time.perf_counter() - started) * 1000
            self._access_log.log(correlation_id, scope.method, scope.path, status, elapsed_ms)
        try:
            if large is None:
                protocol.response_bytes(status, headers, body)
            else:
                await self._stream(scope, protocol, status, headers, large)
        finally:
            # Counted once the last byte is the server's (nothing runs on the loop in between for a small answer, so
            # a client that has read it and asks /metrics finds it counted), whether or not the client took it.
            self._count(scope.method, route, status, time.perf_counter() - started)

    async def _stream(self, scope: Any, protocol: Any, status: int, headers: Headers, large: Large) -> None:
        self.drain.started()  # a streamed answer is in flight until sent: closing lets it finish within the drain
        try:
            await self.sender.send(scope, protocol, status, headers, large, f"{scope.method} {printable(scope.path)}")
        finally:
            self.drain.finished()

    async def _answer(self, scope: Any, protocol: Any, head: RequestHead, span: OpenSpan | None) -> Answer:
        environ = environ_of(scope, head.headers, None, head.correlation_id)
        # Read only for a route that exists: no 404 or 405 holds a body, or gets 100 Continue. A body dropped (b"",
        # see Guards.read_body) or empty leaves the environ as it is, without one.
        if (
            head.has_body
            and self._routed(environ)
            and (body := await self._guards.read_body(protocol, scope.method, head))
        ):
            environ = environ_of(scope, head.headers, body, head.correlation_id)
        # The trace the handler's calls carry on: the request's span, else the caller's trace as it came.
        trace = span.context if span is not None else head.trace
        if self._pool is None:
            status, headers, content = call_traced(self._app, environ, trace, span)
        else:
            loop = asyncio.get_running_loop()
            status, headers, content = await loop.run_in_executor(
                self._pool, call_traced, self._app, environ, trace, span
            )
        head.route = route_template(environ)
        if status < 400:
            return status, headers, content
        # Only a success is a file (see call_wsgi): an error's content is always its bytes.
        return self._error(status, headers, cast(bytes, content), environ, head.correlation_id, span)

    def _routed(self, environ: dict[str, Any]) -> bool:
        """Whether bottle has a route for the request's method and path (bottle answers 404 or 405 otherwise)."""
        try:
            self._app.router.match(environ)
        except bottle.HTTPError:
            return False
        return True

    def _error(
        self,
        status: int,
        headers: Headers,
        content: bytes,
        environ: dict[str, Any],
        correlation_id: str | None,
        span: OpenSpan | None,
    ) -> Answer:
        """A handler's or bottle's error answer as a clean ErrorDescription; a 5xx is logged once here, with the
        fault's stack, and reaches the client as "internal error".

        Our services and bottle_error leave the description they answered in the environ (ERROR_KEY): it is
        taken from there, and its JSON sent as they made it; only another service's body is parsed."""
        description: ErrorDescription | None = environ.get(ERROR_KEY)
        # A HEAD's body was dropped by bottle: made again, so that its Content-Length is the GET's (RFC 9110).
        made = description is not None and description.status == status and status < 500 and bool(content)
        if description is None:
            description = of_service_answer(status, content, correlation_id)
        if description.correlation_id is None and correlation_id is not None:
            description.correlation_id, made = correlation_id, False
        if status == 503 and description.code == EXHAUSTED:  # see errors.bottle_error
            refusal = self.sender.refusal(description.message, description.correlation_id)
            return _error_answer(span, refusal.description, refusal.headers)
        if status >= 500:
            fault: BaseException | None = environ.get(FAULT_KEY)
            if fault is None:
                self._logger.error(description.correlation_id, None, "Internal error %s: %s", description.code,
                                   description.message)  # fmt: skip
            else:  # one event: the exception, its stack and type in the error, not in the message
                self._logger.error(description.correlation_id, fault_event(fault, description.correlation_id),
                                   "Internal error")  # fmt: skip
            description = internal_error(description.correlation_id)
            description.status = status
        return _error_answer(span, description, headers, content if made else None)

    def shutdown(self) -> None:
        """Ends the handler threads, if any, once no request needs them."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _error_answer(
    span: OpenSpan | None,
    description: ErrorDescription,
    headers: Iterable[tuple[str, str]] = (),
    content: bytes | None = None,
) -> tuple[int, Headers, bytes]:
    """error_answer, the answer's code noted on the request's span (which reports the code the client got)."""
    if span is not None:
        span.error_code = description.code
    return error_answer(description, headers, content)
