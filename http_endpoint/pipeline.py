"""The order in which each request meets the endpoint's parts: guards, body, CORS preflight, bottle, errors,
decorations, access log. It is the RSGI handler granian calls, on the server's event loop."""

import library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import bottle
from pip_services3_components.log import ILogger

from http_endpoint.answers import AnswerSender, Large
from http_endpoint.decorations import AccessLog, Decorations
from http_endpoint.errors import (
    EXHAUSTED,
    RequestRejectedError,
    error_answer,
    exhaustion,
    fault,
    internal_error,
    of_service_answer,
)
from http_endpoint.guards import Guards, RequestHead
from http_endpoint.options import EndpointOptions
from http_endpoint.rsgi_bridge import Headers, call_wsgi, environ_of
from process.LogText import printable

# Answered to a CORS preflight: how long a browser may cache it.
PREFLIGHT_HEADERS: Headers = [("Access-Control-Max-Age", "600")]
# A body, or the path of a file the endpoint streams from disk (see rsgi_bridge.FileBody, answers.py).
Answer = tuple[int, Headers, bytes | str]


class RequestPipeline:
    """Answers each request; counts those in flight so that closing can let them finish.

    Handlers run on the event loop thread itself (options.threads 1: no hand-over between threads per request),
    or on a pool of that many threads for handlers that wait on I/O. Bodies are always read on the loop, with a
    deadline, before a handler runs: a client that stalls its body holds no thread.
    """

    def __init__(self, app: bottle.Bottle, options: EndpointOptions, logger: ILogger, access_log: AccessLog) -> None:
        # A bottle app: called as a WSGI app, and its router asked whether a request has a route.
        self._app = app
        self._guards = Guards(options)
        self._decorations = Decorations(options)
        self._logger = logger
        self._access_log = access_log
        self.sender = AnswerSender(options, logger)
        self._pool = ThreadPoolExecutor(options.threads, "http-handler") if options.threads > 1 else None
        self.in_flight = 0
        self.last_finished = 0.0
        # Set while the endpoint closes: every answer then asks its client to close the connection.
        self.closing = False

    async def __call__(self, scope: Any, protocol: Any) -> None:
        started = time.perf_counter()
        self.in_flight += 1
        head: RequestHead | None = None
        large: Large | None = None
        body: bytes | str  # a path only from _answer, for a file prepare turns into a Large answer
        try:
            if self._decorations.is_preflight(scope.method, scope.headers):
                # Before any check: a browser reports a refused preflight as a CORS failure, hiding from the page
                # the error its real request gets (with CORS headers).
                status, headers, body, correlation_id = 204, PREFLIGHT_HEADERS.copy(), b"", None
            else:
                head = self._guards.check_head(scope)
                status, headers, body = await self._answer(scope, protocol, head)
                correlation_id = head.correlation_id
                large = self.sender.prepare(body, correlation_id)
        except RequestRejectedError as rejection:
            status, headers, body = error_answer(rejection.description, rejection.headers)
            correlation_id = rejection.description.correlation_id
        except Exception as error:  # a fault of the endpoint itself: still one format, logged once, here
            correlation_id = head.correlation_id if head else None
            if (reason := exhaustion(error)) is None:
                self._logger.error(correlation_id, error, "Endpoint failed on %s", printable(scope.path))
                status, headers, body = error_answer(internal_error(correlation_id))
            else:  # not a fault: out of descriptors or memory for now
                refusal = self.sender.refusal(reason, correlation_id)
                status, headers, body = error_answer(refusal.description, refusal.headers)
        finally:
            self.in_flight -= 1
            self.last_finished = time.monotonic()
        # Whether a body may be left unread, so that the client is asked to close: no head means refused by the
        # guards, or a preflight (answered unchecked; browsers cache it for 600 s, so closing costs them little).
        unread_body = head is None or (head.has_body and status in (404, 405, 408, 413, 414, 431, 503))
        # A request the guards refused (or a preflight) has no head: its Origin is read from the request itself.
        origin = head.headers.get("HTTP_ORIGIN") if head else scope.headers.get("origin")
        headers += self._decorations.headers(origin, self.closing or unread_body)
        # Logged before the answer leaves: whoever reads the answer finds its line already written.
        self._access_log.log(correlation_id, scope.method, scope.path, status, (time.perf_counter() - started) * 1000)
        if large is None:
            protocol.response_bytes(status, headers, body)
            return
        self.in_flight += 1  # a streamed answer is in flight until sent: closing lets it finish within the drain
        try:
            await self.sender.send(scope, protocol, status, headers, large, f"{scope.method} {printable(scope.path)}")
        finally:
            self.in_flight -= 1
            self.last_finished = time.monotonic()

    async def _answer(self, scope: Any, protocol: Any, head: RequestHead) -> Answer:
        environ = environ_of(scope, head.headers, None, head.correlation_id)
        if head.has_body and self._routed(environ):
            # Read only for a route that exists and takes one: no 404 or 405 holds a body, or gets 100 Continue.
            body = await self._guards.read_body(protocol, scope.method, head)
            environ = environ_of(scope, head.headers, body, head.correlation_id)
        if self._pool is None:
            status, headers, content = call_wsgi(self._app, environ)
        else:
            loop = asyncio.get_running_loop()
            status, headers, content = await loop.run_in_executor(self._pool, call_wsgi, self._app, environ)
        if status < 400:
            return status, headers, content
        # Only a success goes by path (see call_wsgi): an error's content is always its bytes.
        return self._error(status, headers, cast(bytes, content), head.correlation_id)

    def _routed(self, environ: dict[str, Any]) -> bool:
        """Whether bottle has a route for the request's method and path (bottle answers 404 or 405 otherwise)."""
        try:
            self._app.router.match(environ)
        except bottle.HTTPError:
            return False
        return True

    def _error(self, status: int, headers: Headers, content: bytes, correlation_id: str | None) -> Answer:
        """A handler's or bottle's error answer as a clean ErrorDescription; a 5xx is logged in full here and
        reaches the client as "internal error"."""
        description = of_service_answer(status, content, correlation_id)
        if status == 503 and description.code == EXHAUSTED:  # see errors.bottle_error
            refusal = self.sender.refusal(description.message, description.correlation_id)
            return error_answer(refusal.description, refusal.headers)
        if status >= 500:
            self._logger.error(description.correlation_id, fault(description), "Internal error")
            description = internal_error(description.correlation_id)
            description.status = status
        return error_answer(description, headers)

    def shutdown(self) -> None:
        """Ends the handler threads, if any, once no request needs them."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
