"""Spans recorded by the OpenTelemetry SDK and sent by its OTLP/HTTP exporter, configured by the standard OTEL_*
environment (endpoint, headers, timeout, sampler, batch sizes, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES), with
two bounds of its own so that a collector outage costs nothing: EXPORT_TIMEOUT when no timeout is set, and
CLOSE_TIMEOUT on the last flush.

Imported by OpenTelemetryTracer only when tracing is on: a service without OTEL_EXPORTER_OTLP_ENDPOINT never loads
the SDK (about 10 MB, and its import time).
"""

from microservice_chassis.library_fixes.otlp_transport import CertificateKeepingSession

import os
import threading
from collections.abc import Callable
from contextvars import ContextVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

from microservice_chassis.process import identity
from microservice_chassis.tracing.request_tracer import Attributes, OpenSpan, SpanKind
from microservice_chassis.tracing.trace_context import TraceContext

_KINDS = {"server": trace.SpanKind.SERVER, "client": trace.SpanKind.CLIENT}
# Seconds the last flush may take on close: what a stop costs when the collector is down (the SDK's
# OTEL_BSP_EXPORT_TIMEOUT, 30 s, is past Kubernetes' grace period); a collector that answers needs milliseconds.
CLOSE_TIMEOUT = 2.0
# Seconds an export may take, retries included, unless OTEL_EXPORTER_OTLP[_TRACES]_TIMEOUT says (the SDK's 10 s
# held a batch, and the spans queued behind it, that long for each failure).
EXPORT_TIMEOUT = 2.0
TIMEOUT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")


class ExportedSpan(OpenSpan):
    """An SDK span; its context is the one a call made within it passes on."""

    def __init__(self, span: trace.Span, tracestate: str | None) -> None:
        self._span = span
        context = span.get_span_context()
        self.context = TraceContext(
            format(context.trace_id, "032x"), format(context.span_id, "016x"), int(context.trace_flags), tracestate
        )

    def end(self, attributes: Attributes, error: str | None, name: str | None = None) -> None:
        if name is not None:
            self._span.update_name(name)
        self._span.set_attributes(attributes)
        if error is not None:
            self._span.set_status(trace.StatusCode.ERROR, error)
        self._span.end()


class _CountingProcessor(BatchSpanProcessor):
    """A BatchSpanProcessor (its queue bounded by OTEL_BSP_MAX_QUEUE_SIZE, 2048) that reports each span it drops
    for a full queue: the SDK counts them only in its own metrics, off by default, and logs the first."""

    def __init__(self, exporter: OTLPSpanExporter, on_dropped: Callable[[int], None]) -> None:
        super().__init__(exporter)
        self._on_dropped = on_dropped
        # The SDK's bounded deque (maxlen: the queue size), read-only here; no public API tells it is full.
        self._queue = self._batch_processor._queue

    def on_end(self, span: ReadableSpan) -> None:
        sampled = span.context is not None and span.context.trace_flags.sampled
        if sampled and len(self._queue) == self._queue.maxlen:
            self._on_dropped(1)
        super().on_end(span)


# The trace id the span being begun must have, while start_span begins one from a trace id alone: the SDK makes a
# span with no parent the root of a trace it numbers itself, by its id generator (_TraceIds).
_GIVEN_TRACE_ID: ContextVar[int | None] = ContextVar("chassis_given_trace_id", default=None)


class _TraceIds(RandomIdGenerator):
    """The SDK's random ids, but the trace id start_span gives (_GIVEN_TRACE_ID): the caller's, so not flagged as
    random (W3C's random-trace-id flag)."""

    def generate_trace_id(self) -> int:
        given = _GIVEN_TRACE_ID.get()
        return super().generate_trace_id() if given is None else given

    def is_trace_id_random(self) -> bool:
        return _GIVEN_TRACE_ID.get() is None


class SpanExporter:
    """A tracer provider of its own (the global one is left to the application), batching spans to OTLP/HTTP;
    `on_dropped` hears of each span dropped while the collector cannot keep up."""

    def __init__(self, service_name: str, on_dropped: Callable[[int], None]) -> None:
        # The environment's OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES win over the context-info name.
        # service.version is the project metadata's (identity.version), as --version, /status and build_info say.
        named = SERVICE_NAME in OTELResourceDetector().detect().attributes
        attributes = {SERVICE_VERSION: identity.version()} if identity.version() else {}
        resource = Resource.create(attributes if named else {SERVICE_NAME: service_name, **attributes})
        # No exit hook: the SDK's would flush again at exit, unbounded (close bounds the one flush).
        self._provider = TracerProvider(resource=resource, shutdown_on_exit=False, id_generator=_TraceIds())
        timed = any(os.environ.get(name) for name in TIMEOUT_VARIABLES)
        exporter = OTLPSpanExporter(timeout=None if timed else EXPORT_TIMEOUT, session=CertificateKeepingSession())
        self._provider.add_span_processor(_CountingProcessor(exporter, on_dropped))
        self._tracer = self._provider.get_tracer(identity.name())

    def start_span(self, name: str, kind: SpanKind, parent: TraceContext | None, attributes: Attributes) -> OpenSpan:
        if parent is not None and parent.trace_only:  # no parent span: a root, numbered by the trace id given
            token = _GIVEN_TRACE_ID.set(int(parent.trace_id, 16))
            try:
                span = self._tracer.start_span(name, otel_context.Context(), _KINDS[kind], attributes)
            finally:
                _GIVEN_TRACE_ID.reset(token)
        else:
            context = None if parent is None else trace.set_span_in_context(_remote(parent), otel_context.Context())
            span = self._tracer.start_span(name, context, _KINDS[kind], attributes)
        return ExportedSpan(span, parent.tracestate if parent else None)

    def close(self) -> None:
        """Sends the spans still batched and stops the exporter, waiting CLOSE_TIMEOUT at most: what is not sent
        by then is lost, the process exiting without waiting for the exporter's daemon threads."""
        flush = threading.Thread(target=self._provider.shutdown, name="span-flush", daemon=True)
        flush.start()
        flush.join(CLOSE_TIMEOUT)


def _remote(parent: TraceContext) -> trace.NonRecordingSpan:
    trace_state = trace.TraceState.from_header([parent.tracestate]) if parent.tracestate else None
    return trace.NonRecordingSpan(
        trace.SpanContext(
            int(parent.trace_id, 16), int(parent.parent_id, 16), True, trace.TraceFlags(parent.flags), trace_state
        )
    )
