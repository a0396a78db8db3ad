"""Limits, framing and the body deadline: checked before any handler runs, each refusal a RequestRejectedError.

granian's parser (hyper) answers what it cannot parse itself, with an empty body and no Python involved: a
request head over 64 KiB (431 or 414), more than 100 headers (431), a malformed request line or Content-Length
(400). Everything it passes on is checked here.
"""

import asyncio
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote

from microservice_chassis.http.errors import BudgetSpentError, RequestRejectedError
from microservice_chassis.http.options import EndpointOptions
from microservice_chassis.http.rsgi_bridge import BodyTooLargeError, MalformedBodyError, read_body, wsgi_key
from microservice_chassis.tracing import trace_context
from microservice_chassis.tracing.trace_context import TraceContext

# Correlation ids are echoed in answers and head every log line, "[id:LEVEL:time] ...": an id is 1-256 visible ASCII
# characters other than that prefix's "[", "]", ":" and the escape character "\\"; any other is refused (400), so
# no id can forge or break a log line, and no two ids the client sent are logged alike.
MAX_CORRELATION_ID = 256
CORRELATION_ID = re.compile(rf"[!-9;-Z^-~]{{1,{MAX_CORRELATION_ID}}}")
# Characters a path keeps unescaped on the wire (RFC 3986 pchar and "/"); any other is sent as %XX escapes.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_NEEDS_ESCAPE = re.compile(r"[^A-Za-z0-9/:@!$&'()*+,;=\-._~]")
# The methods whose requests may carry a body a route reads; any other's body is read and dropped (see below).
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The largest body read to be dropped, for a method whose body means nothing (GET, HEAD, OPTIONS: RFC 9110 9.3.1):
# clients send one out of habit (pip_services3_rpc's own tests send `null` with GET /heartbeat), a few bytes, and
# the stock endpoint serves them. It is read only so that the connection can serve the next request, so it is not
# request_max_size, which sizes what routes use (1 MiB by default): a larger body is a client's mistake (a payload
# sent with the wrong method), refused 413 rather than read at length for nothing.
IGNORED_BODY_MAX = 4096
# The probes' paths (config.yml's heartbeat and status services, deploy/k8s/deployment.yaml's probes): liveness is
# answered in maintenance too (a restart would not end it), readiness is 503 while the endpoint closes.
LIVENESS_PATH = "/heartbeat"
READINESS_PATH = "/status"
# The metrics service's scrape path: answered in maintenance too, or every pod in maintenance is `up == 0`.
METRICS_PATH = "/metrics"
MAINTENANCE_ANSWERED = frozenset({LIVENESS_PATH, METRICS_PATH})
# The headers by which granian frames a request's body, as WSGI keys.
_FRAMING_KEYS = frozenset({"HTTP_CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING", "HTTP_TRAILER"})
# What a request waiting for its body holds besides the body's bytes, booked against max_buffered_total: its head in
# granian's buffers, its task, scope and headers. Measured with granian 2.8.7: 3,000 connections that sent a head
# announcing a body and stalled cost 15.1 KB each more than 3,000 that sent nothing (17.6 KB against 2.5 KB).
REQUEST_COST = 16 * 1024


@dataclass
class RequestHead:
    """What the guards learned from a request's head."""

    correlation_id: str | None
    headers: dict[str, str]  # as WSGI environ keys (HTTP_CONTENT_TYPE...)
    body_length: int | None  # declared by Content-Length; None when chunked or absent
    has_body: bool
    trace: TraceContext | None = None  # the W3C trace the request is part of, if it says so validly
    route: str | None = None  # the route template bottle matched, once it has answered (None: none matched)


class Guards:
    """Checks a request against the endpoint's limits."""

    def __init__(self, options: EndpointOptions) -> None:
        self._options = options
        self._buffered = BufferedBudget(options.max_buffered_total)

    def check_head(self, scope: Any, closing: bool, recorded: TraceContext | None = None) -> RequestHead:
        """Correlation id, target size, headers, Host, method, framing, declared body size, maintenance, and
        readiness while `closing`. `recorded` is the trace of the request's span when a tracer records one (the
        caller's, or a new one): a request that names no correlation id gets its trace id as one."""
        options = self._options
        headers, size, hosts = self._collect_headers(scope)
        trace = trace_of(headers)
        correlation_id = _correlation_id(scope.query_string, headers.get("HTTP_CORRELATION_ID"), recorded or trace)
        if _target_size(scope.path, scope.query_string) > options.max_uri:
            raise RequestRejectedError(414, f"Request target is longer than {options.max_uri} bytes", correlation_id)
        if size > options.max_headers:
            raise RequestRejectedError(431, f"Headers are larger than {options.max_headers} bytes", correlation_id)
        if scope.http_version == "1.1" and hosts != 1:
            raise RequestRejectedError(
                400, "An HTTP/1.1 request needs exactly one Host header", correlation_id, "INVALID_HOST"
            )
        if not scope.method.isupper():  # "get" is not GET: methods are case-sensitive (RFC 9110, 9.1)
            raise RequestRejectedError(405, "Method names are case-sensitive, e.g. GET", correlation_id)
        length_text = headers.get("HTTP_CONTENT_LENGTH")
        length = int(length_text) if length_text else None  # hyper has refused non-numeric lengths
        coding = headers.get("HTTP_TRANSFER_ENCODING")
        chunked = coding is not None
        # gzip and the like: the body would be read undecoded
        if coding is not None and coding.strip().lower() != "chunked":
            raise RequestRejectedError(
                400, "The only transfer coding accepted is chunked", correlation_id, "UNSUPPORTED_TRANSFER_CODING"
            )
        if length is not None and length > self._body_limit(scope.method):
            raise self._too_large(correlation_id, scope.method)
        if options.maintenance and scope.path not in MAINTENANCE_ANSWERED:
            raise RequestRejectedError(
                503, "Service is in maintenance", correlation_id, "SERVICE_UNAVAILABLE", [("Retry-After", "3600")]
            )
        if closing and scope.path == READINESS_PATH:
            raise RequestRejectedError(503, "Service is closing", correlation_id, "SERVICE_UNAVAILABLE")
        return RequestHead(correlation_id, headers, None if chunked else length, chunked or bool(length), trace)

    def _body_limit(self, method: str) -> int:
        """The largest body a `method` request may carry: request_max_size, or for a body that is dropped
        IGNORED_BODY_MAX (request_max_size if smaller)."""
        max_body = self._options.max_body
        return max_body if method in BODY_METHODS else min(max_body, IGNORED_BODY_MAX)

    def _too_large(self, correlation_id: str | None, method: str) -> RequestRejectedError:
        """A body over the limit: refused when its Content-Length says so, or as soon as that much has arrived."""
        return RequestRejectedError(413, f"Body is larger than {self._body_limit(method)} bytes", correlation_id)

    async def read_body(self, protocol: Any, method: str, head: RequestHead) -> bytes:
        """The whole body within the size limit and the deadline: a stalled or trickling client gets 408 and costs
        nothing meanwhile but a pending read, and broken framing is a 400 whatever the method. A method whose
        routes read no body has it read all the same, so that the connection can serve its next request, and
        dropped: b"", since such a body means nothing (RFC 9110 9.3.1) and its route must not act on it."""
        options = self._options
        try:
            with self._buffered.holding(head.body_length or 0) as cover:
                async with asyncio.timeout(options.body_timeout):
                    body = await read_body(
                        protocol, self._body_limit(method), head.body_length, "HTTP_TRAILER" in head.headers, cover
                    )
        except TimeoutError:
            raise RequestRejectedError(
                408, f"Body not received within {options.body_timeout:g} s", head.correlation_id
            ) from None
        except BodyTooLargeError:
            raise self._too_large(head.correlation_id, method) from None
        except MalformedBodyError:
            raise RequestRejectedError(
                400, "Malformed or incomplete body", head.correlation_id, "MALFORMED_BODY"
            ) from None
        return body if method in BODY_METHODS else b""

    @staticmethod
    def _collect_headers(scope: Any) -> tuple[dict[str, str], int, int]:
        """The headers as WSGI keys (repeated ones joined by ", "), their size in bytes and the number of Hosts.

        A framing header spelled with "_" (`Content_Length`) is left out: it names the same WSGI key as the real
        one, but granian framed the body by the real one only (and checked only that one's value).
        """
        headers: dict[str, str] = {}
        size = hosts = 0
        for name, value in scope.headers.items():
            size += len(name) + len(value)
            key = wsgi_key(name)
            if key == "HTTP_HOST":
                hosts += 1
            elif key in _FRAMING_KEYS and "_" in name:
                continue
            headers[key] = headers[key] + ", " + value if key in headers else value
        return headers, size, hosts


class BufferedBudget:
    """The memory that requests receiving their bodies hold, all connections together: each is booked REQUEST_COST
    plus its announced Content-Length up front (a chunked body: as its bytes arrive), and released when its body is
    read or refused. Each body is bounded (request_max_size, body_read_timeout) but their sum was not: clients that
    announce bodies and stall held 17-45 KB each, enough at a few thousand connections for the pod's memory limit
    to kill the process. Beyond `total` a request is refused 503 with Retry-After (BudgetSpentError), its connection
    closed, which frees what granian held for it."""

    def __init__(self, total: int) -> None:
        self._total = total
        self._held = 0

    @contextmanager
    def holding(self, announced: int) -> Iterator[Callable[[int], None]]:
        """Books a request's cost and its `announced` body for as long as the block runs; yields `cover(size)`,
        which books more when a body grows past what is booked. Either raises BudgetSpentError when the total
        would pass the budget."""
        booked = 0

        def cover(size: int) -> None:
            nonlocal booked
            more = REQUEST_COST + size - booked
            if more <= 0:
                return
            if self._held + more > self._total:
                raise BudgetSpentError("request bodies being received hold options.max_buffered_total")
            self._held += more
            booked += more

        cover(announced)
        try:
            yield cover
        finally:
            self._held -= booked


def _target_size(path: str, query: str) -> int:
    """The request target's length on the wire: granian hands over the path decoded, so it is escaped again as a
    client sends it (an escape of a plain letter, "%41" for "A", which no client needs, counts as one byte)."""
    path_size = len(quote(path, safe=_PATH_SAFE)) if _NEEDS_ESCAPE.search(path) else len(path)
    return path_size + (len(query) + 1 if query else 0)


def trace_of(headers: dict[str, str]) -> TraceContext | None:
    """The request's W3C trace (headers as WSGI keys, several joined by ", "): see trace_context.parse."""
    traceparent = headers.get("HTTP_TRACEPARENT")
    return None if traceparent is None else trace_context.parse(traceparent, headers.get("HTTP_TRACESTATE"))


def _correlation_id(query: str, header: str | None, trace: TraceContext | None) -> str | None:
    """The request's correlation id: `correlation_id` in the query, else the `correlation_id` header, else the id
    of the request's trace (its span's, else a valid `traceparent`'s); refused (400) when the client's could not be
    echoed and logged safely.

    A correlation id the client gives wins over the trace id: it is what the client expects back in every error
    body and finds in the log lines; the request's span then carries both (see docs/process.md, "Tracing").

    The query is read as bottle reads it for every service (keys unescaped, the last value, an empty one meaning
    none): `correlation%5Fid=...` is a correlation id too. Without a "%" the key can only be there literally.
    """
    value = header or None
    if "correlation_id" in query or "%" in query:
        values = [text for key, text in parse_qsl(query, keep_blank_values=True) if key == "correlation_id"]
        if values and values[-1]:
            value = values[-1]
    if value is not None and not CORRELATION_ID.fullmatch(value):
        raise RequestRejectedError(
            400,
            f"correlation_id must be at most {MAX_CORRELATION_ID} visible ASCII characters other than [ ] : \\",
            None,
            "INVALID_CORRELATION_ID",
        )
    if value is None and trace is not None:
        return trace.trace_id
    return value
