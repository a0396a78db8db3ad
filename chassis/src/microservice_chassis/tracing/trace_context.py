"""The W3C Trace Context (https://www.w3.org/TR/trace-context/): `traceparent` and `tracestate` read from a request,
written on a call, and the trace of the request being served, for the clients it calls to carry on."""

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

# version "-" trace-id "-" parent-id "-" flags, lowercase hex (W3C 3.2). A future version may add fields after a "-".
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?", re.DOTALL)
_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_ZERO_TRACE, _ZERO_PARENT = "0" * 32, "0" * 16
# tracestate (W3C 3.3): at most 32 list members; kept only when it is printable ASCII of at most 512 characters
# (what the spec asks vendors to propagate at least); anything else is dropped, never passed on.
_TRACESTATE = re.compile(r"[\x20-\x7e]{0,512}")
_MAX_TRACESTATE_MEMBERS = 32


@dataclass(frozen=True)
class TraceContext:
    """A position in a trace: its trace id, the span a call comes from (parent_id), the flags (bit 0: sampled)
    and the vendors' tracestate, passed on unchanged.

    `trace_only`: the trace id alone is known (a call's correlation id that is a trace id), no span to be the
    child of; parent_id is then made up, only so that the `traceparent` a call sends unrecorded is valid, and a
    span begun from it has no parent (one naming a parent nobody recorded is an orphan in every trace viewer).
    """

    trace_id: str
    parent_id: str
    flags: int = 0
    tracestate: str | None = None
    trace_only: bool = False

    def traceparent(self) -> str:
        """The `traceparent` header naming this position, in version 00 (the one this service speaks)."""
        return f"00-{self.trace_id}-{self.parent_id}-{self.flags:02x}"


def parse(traceparent: str | None, tracestate: str | None = None) -> TraceContext | None:
    """The trace a request is part of, or None when `traceparent` is absent or malformed: the request then starts
    a new trace (W3C 4.3), it is never refused. A future version (not 00, not the invalid ff) is read leniently:
    its first four fields, followed by nothing or by "-" and more (W3C 4.5). A value with a comma is several
    `traceparent` headers joined as an HTTP list, which is malformed too (W3C 3.2: one header, not a list).
    """
    if traceparent is None or "," in traceparent:
        return None
    match = _TRACEPARENT.fullmatch(traceparent.strip(" \t"))
    if match is None:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    if trace_id == _ZERO_TRACE or parent_id == _ZERO_PARENT:
        return None
    return TraceContext(trace_id, parent_id, int(flags, 16) & 0x01, _valid_tracestate(tracestate))


def _valid_tracestate(tracestate: str | None) -> str | None:
    if not tracestate or not _TRACESTATE.fullmatch(tracestate) or tracestate.count(",") >= _MAX_TRACESTATE_MEMBERS:
        return None
    return tracestate.strip(" \t") or None


def is_trace_id(text: str | None) -> bool:
    """Whether `text` (a correlation id) is a W3C trace id: 32 lowercase hex digits, not all zero."""
    return text is not None and text != _ZERO_TRACE and _TRACE_ID.fullmatch(text) is not None


def new_span_id() -> str:
    """A random, non-zero span id, for a call made while no span records it."""
    while (span_id := os.urandom(8).hex()) == _ZERO_PARENT:
        pass
    return span_id


# The trace of the request being served on this thread, set for the time its handler runs (see serving).
_CURRENT: ContextVar[TraceContext | None] = ContextVar("chassis_trace", default=None)


@contextmanager
def serving(trace: TraceContext | None) -> Iterator[None]:
    """Makes `trace` the current one while a request's handler (or a client's call) runs: the clients it calls
    carry it on, and every log line written meanwhile names it (log/line_format)."""
    token = _CURRENT.set(trace)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current() -> TraceContext | None:
    """The trace of the request or client call in progress on this thread, if any."""
    return _CURRENT.get()


def outgoing(correlation_id: str | None) -> TraceContext | None:
    """The trace a client call belongs to: the request being served, if any; else, for a correlation id that is a
    trace id, that trace alone (trace_only, its parent id made up) and sampled (the caller asks for it to be
    traced: a receiver sampling by its parent, OpenTelemetry's default, records it); else none."""
    current = _CURRENT.get()
    if current is not None:
        return current
    if correlation_id is not None and is_trace_id(correlation_id):
        return TraceContext(correlation_id, new_span_id(), 1, trace_only=True)
    return None
