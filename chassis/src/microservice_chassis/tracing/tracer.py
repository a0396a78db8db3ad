"""Traces as OpenTelemetry spans, exported over OTLP/HTTP when the standard OTEL_EXPORTER_OTLP_ENDPOINT is set.

Without it the tracer is off: the SDK is never imported, and the endpoint and the clients open no span (they ask
`is_enabled` once, in set_references). Its parts are in tracing/.
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from microservice_chassis.library_fixes.counters import use_own_counters
from microservice_chassis.library_fixes.loggers import LevelCheckingCompositeLogger

import os
from typing import TYPE_CHECKING

from pip_services3_commons.config import ConfigParams, IConfigurable
from pip_services3_commons.refer import Descriptor, IReferenceable, IReferences, IUnreferenceable
from pip_services3_commons.run import IOpenable
from pip_services3_components.count import CompositeCounters
from pip_services3_components.trace import ITracer, TraceTiming

from microservice_chassis.process import identity
from microservice_chassis.tracing import sdk_log
from microservice_chassis.tracing.request_tracer import Attributes, IRequestTracer, OpenSpan, SpanKind
from microservice_chassis.tracing.settings import ENDPOINT_VARIABLE, tracing_wanted
from microservice_chassis.tracing.trace_context import TraceContext, new_span_id

if TYPE_CHECKING:
    from microservice_chassis.tracing.exporter import SpanExporter

CONTEXT_INFO = Descriptor("pip-services", "context-info", "*", "*", "1.0")
# The spans dropped because the collector could not take them (`tracing_dropped_spans_total` in /metrics).
DROPPED_SPANS_COUNTER = "tracing.dropped_spans"


class OpenTelemetryTracer(IRequestTracer, ITracer, IConfigurable, IReferenceable, IUnreferenceable, IOpenable):
    """`chassis:tracer:opentelemetry:default:1.0`: one span per request the endpoint serves and per call an
    HTTP client makes, batched (BatchSpanProcessor, its queue bounded: spans beyond it are dropped and counted as
    `tracing.dropped_spans` in `*:counters:*:*:1.0`) and sent when the container stops.

    Sent at `unset_references`, not at `close`: the container (pip_services3_container's ManagedReferences) closes
    the components in the config's order, then unsets every one's references. The tracer, opened before the
    endpoint, is closed before it too, while the endpoint still serves and drains; it keeps recording until the
    references go, after every component has closed, and then flushes within exporter.CLOSE_TIMEOUT: a stop loses
    no span of a request that drained, and a collector that is down costs the stop that bound, never more.
    The SDK's own log lines (a failed export...) are the service's lines (tracing/sdk_log.py).

    Spans are opened through IRequestTracer. Its descriptor's type `tracer` also puts it in every component's
    CompositeTracer, so it is an ITracer too, whose calls record nothing: ITracer hears of an operation only once
    it has ended, too late to parent the calls made within it, and the operations it hears of (a service's
    `orders.get_order`, a client's call) are the requests and client calls spanned here already.

    Configuration: the standard OTEL_* environment variables only. service.name is OTEL_SERVICE_NAME (or
    OTEL_RESOURCE_ATTRIBUTES'), else the context-info name (`pip-services:context-info:*:*:1.0`).
    """

    def __init__(self) -> None:
        # Without configure (a tracer made in code): the collector's variable alone; configure reads them all, and
        # refuses there, where the container reports the reason (it drops a constructor's).
        self._enabled = bool(os.environ.get(ENDPOINT_VARIABLE))
        self._service_name = identity.name()
        self._exporter: SpanExporter | None = None
        self._opened = False
        self._logger = LevelCheckingCompositeLogger()
        self._counters = CompositeCounters()
        use_own_counters(self._counters)

    def configure(self, config: ConfigParams) -> None:
        """Refuses, in one line, what the standard variables ask that this tracer does not do (see tracing_wanted)."""
        self._enabled = tracing_wanted()

    def set_references(self, references: IReferences) -> None:
        self._logger.set_references(references)
        self._counters.set_references(references)
        context_info = references.get_one_optional(CONTEXT_INFO)
        if context_info is not None and context_info.name:
            self._service_name = context_info.name

    def is_enabled(self) -> bool:
        return self._enabled

    def is_open(self) -> bool:
        return self._opened

    def open(self, correlation_id: str | None) -> None:
        self._opened = True
        if self._enabled and self._exporter is None:
            from microservice_chassis.tracing.exporter import (
                SpanExporter,  # only now: no cost, and no import, while tracing is off
            )

            sdk_log.install(self._logger)
            self._exporter = SpanExporter(self._service_name, self._count_dropped)

    def close(self, correlation_id: str | None) -> None:
        """Closed, but still recording: the components closed after it (the endpoint draining) end spans too."""
        self._opened = False

    def unset_references(self) -> None:
        """Sends the spans batched, within exporter.CLOSE_TIMEOUT: every component has closed by now."""
        exporter, self._exporter = self._exporter, None
        if exporter is not None:
            exporter.close()

    def _count_dropped(self, spans: int) -> None:
        """Called by the thread that ended the span: CachedCounters' increment takes its own lock."""
        self._counters.increment(DROPPED_SPANS_COUNTER, spans)

    def start_span(self, name: str, kind: SpanKind, parent: TraceContext | None, attributes: Attributes) -> OpenSpan:
        exporter = self._exporter
        if exporter is None:
            return _Unrecorded(parent)
        return exporter.start_span(name, kind, parent, attributes)

    # --- ITracer: see the class's docstring ------------------------------------------------------

    def trace(self, correlation_id: str | None, component: str, operation: str, duration: float) -> None:
        """Records nothing: the operation's request or call has its span."""

    def failure(
        self, correlation_id: str | None, component: str, operation: str, error: Exception, duration: float
    ) -> None:
        """Records nothing: the operation's request or call has its span, marked as failed."""

    def begin_trace(self, correlation_id: str | None, component: str, operation: str) -> TraceTiming:
        return TraceTiming(correlation_id, component, operation, self)


class _Unrecorded(OpenSpan):
    """What a span begun before open or after close is: the caller's trace carried on, nothing recorded."""

    def __init__(self, parent: TraceContext | None) -> None:
        self.context = parent or TraceContext(new_span_id() + new_span_id(), new_span_id())

    def end(self, attributes: Attributes, error: str | None, name: str | None = None) -> None:
        """Nothing is recorded."""
