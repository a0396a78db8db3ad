"""The tracer contract: the spans the endpoint and the HTTP clients open, whatever records them.

The endpoint and the clients find a tracer by TRACER_LOCATOR and type against this interface only: with no
tracer, or one that is off (OpenTelemetryTracer without OTEL_EXPORTER_OTLP_ENDPOINT), they open no span and pay
nothing for it; the W3C trace context is carried on either way (tracing/trace_context.py).
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

from abc import ABC, abstractmethod
from typing import Literal

from pip_services3_commons.refer import Descriptor, IReferences

from microservice_chassis.tracing.trace_context import TraceContext

# Any tracer of the container: the IRequestTracer among them is the one (enabled_tracer).
TRACER_LOCATOR = Descriptor("*", "tracer", "*", "*", "1.0")
SpanKind = Literal["server", "client"]
Attributes = dict[str, str | int]


class OpenSpan(ABC):
    """A span begun and not yet ended."""

    # Where this span sits in its trace: what a call made within it sends as `traceparent`.
    context: TraceContext
    # The route template a server span's request matched, once the endpoint knows it.
    route: str | None = None
    # The code of the ErrorDescription a server span's request was answered with, if it was an error.
    error_code: str | None = None

    @abstractmethod
    def end(self, attributes: Attributes, error: str | None, name: str | None = None) -> None:
        """Ends the span with these attributes (the status, the error code), as a failure when `error` says why,
        renamed to `name` if given (a server span is named by its route once matched)."""


class IRequestTracer(ABC):
    """Opens spans, recorded and exported by the implementation."""

    @abstractmethod
    def is_enabled(self) -> bool:
        """Whether spans are recorded: when not, callers need not call start_span at all."""

    @abstractmethod
    def start_span(self, name: str, kind: SpanKind, parent: TraceContext | None, attributes: Attributes) -> OpenSpan:
        """Begins a span, the child of `parent`; with no parent, the root of a new trace, or of `parent`'s trace
        when it is `trace_only` (a trace id alone)."""


def enabled_tracer(references: IReferences) -> IRequestTracer | None:
    """The tracer among `references` when it records spans, else None: what a component keeps to trace its work."""
    for tracer in references.get_optional(TRACER_LOCATOR):
        if isinstance(tracer, IRequestTracer) and tracer.is_enabled():
            return tracer
    return None
