"""Spans recorded by the OpenTelemetry SDK and sent by its OTLP/HTTP exporter, configured by the standard OTEL_*
environment (endpoint, headers, timeout, sampler, batch sizes, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES).

Imported by OpenTelemetryTracer only when tracing is on: a service without OTEL_EXPORTER_OTLP_ENDPOINT never loads
the SDK (about 10 MB, and its import time).
"""

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from microservice_chassis.process import identity
from microservice_chassis.tracing.request_tracer import Attributes, OpenSpan, SpanKind
from microservice_chassis.tracing.trace_context import TraceContext

_KINDS = {"server": trace.SpanKind.SERVER, "client": trace.SpanKind.CLIENT}


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


class SpanExporter:
    """A tracer provider of its own (the global one is left to the application), batching spans to OTLP/HTTP."""

    def __init__(self, service_name: str) -> None:
        # The environment's OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES win over the context-info name.
        named = SERVICE_NAME in OTELResourceDetector().detect().attributes
        resource = Resource.create({} if named else {SERVICE_NAME: service_name})
        self._provider = TracerProvider(resource=resource)
        self._provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        self._tracer = self._provider.get_tracer(identity.name())

    def start_span(self, name: str, kind: SpanKind, parent: TraceContext | None, attributes: Attributes) -> OpenSpan:
        context = None if parent is None else trace.set_span_in_context(_remote(parent), otel_context.Context())
        span = self._tracer.start_span(name, context, _KINDS[kind], attributes)
        return ExportedSpan(span, parent.tracestate if parent else None)

    def close(self) -> None:
        """Sends every span still batched (within OTEL_BSP_EXPORT_TIMEOUT), then stops the exporter."""
        self._provider.shutdown()


def _remote(parent: TraceContext) -> trace.NonRecordingSpan:
    trace_state = trace.TraceState.from_header([parent.tracestate]) if parent.tracestate else None
    return trace.NonRecordingSpan(
        trace.SpanContext(
            int(parent.trace_id, 16), int(parent.parent_id, 16), True, trace.TraceFlags(parent.flags), trace_state
        )
    )
