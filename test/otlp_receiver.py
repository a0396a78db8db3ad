"""A real OTLP/HTTP trace receiver for the tests: `POST /v1/traces` on a free port, each body decoded with the
OpenTelemetry protobuf definitions (opentelemetry-proto's ExportTraceServiceRequest)."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

from microservice_chassis.testing import Certificate, http_server
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


class Received:
    """The spans received so far, each as (resource attributes, span)."""

    def __init__(self) -> None:
        self.spans: list[tuple[dict[str, Any], Any]] = []
        self.changed = threading.Condition()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[dict[str, Any], Any]]:
        """At least `count` spans, waiting for them to arrive up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(self.spans) < count and (left := deadline - time.monotonic()) > 0:
                self.changed.wait(left)
            return list(self.spans)


def attributes(items: Any) -> dict[str, Any]:
    """OTLP KeyValues as a dict of their values."""
    return {item.key: getattr(item.value, item.value.WhichOneof("value")) for item in items}


@contextmanager
def otlp_receiver(certificate: Certificate | None = None) -> Iterator[tuple[str, Received]]:
    """Serves OTLP/HTTP on 127.0.0.1 at a free port, over TLS with `certificate` if given; yields its base URL (for
    OTEL_EXPORTER_OTLP_ENDPOINT) and what it received."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path != "/v1/traces" or self.headers["Content-Type"] != "application/x-protobuf":
                self.send_error(404)
                return
            request = ExportTraceServiceRequest.FromString(body)
            with received.changed:
                for resource_spans in request.resource_spans:
                    resource = attributes(resource_spans.resource.attributes)
                    for scope_spans in resource_spans.scope_spans:
                        received.spans += [(resource, span) for span in scope_spans.spans]
                received.changed.notify_all()
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_: object) -> None:
            pass

    with http_server(Handler, certificate) as url:
        yield url, received
