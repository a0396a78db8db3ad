"""The HTTP clients' spans (tracing/client_spans.py) by OpenTelemetry's HTTP client conventions: their names, their
attributes, `url.full` without credentials or query values, a refused connection told apart from an error answer,
and a call started from a trace id alone. Recorded by a real OpenTelemetryTracer in this process, received by a
real OTLP/HTTP receiver; the calls go over real sockets to the service on our endpoint, to a real HTTP server
answering what a test needs, or to a closed port."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from microservice_chassis.http.endpoint import GranianHttpEndpoint
from microservice_chassis.testing import free_port, http_server, listening_port
from microservice_chassis.tracing import trace_context
from microservice_chassis.tracing.settings import ENDPOINT_VARIABLE
from microservice_chassis.tracing.tracer import OpenTelemetryTracer
from otlp_receiver import Received, attributes, otlp_receiver
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import BadRequestException, InvocationException
from pip_services3_commons.refer import Descriptor, References

from HelloWorldCommandableHttpClient import HelloWorldCommandableHttpClient
from HelloWorldCommandableHttpService import HelloWorldCommandableHttpService
from HelloWorldRestClient import HelloWorldRestClient
from HelloWorldRestService import HelloWorldRestService
from HelloWorldServiceFactory import HelloWorldServiceFactory
from support import serving

TRACER = Descriptor("chassis", "tracer", "opentelemetry", "default", "1.0")
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CLIENT = 3  # OTLP's Span.SpanKind
STATUS_ERROR = 2  # OTLP's Status.StatusCode
# Each client, with the method and the path (its url.template) of its call.
CLIENTS: dict[type, tuple[str, str]] = {
    HelloWorldRestClient: ("GET", "/hello_world/greeting"),
    HelloWorldCommandableHttpClient: ("POST", "/v1/hello_world/greeting"),
}
CLIENT_TYPES = list(CLIENTS)


@dataclass
class Tracing:
    """A real OpenTelemetryTracer, open and recording, and the OTLP receiver it exports to."""

    tracer: OpenTelemetryTracer
    received: Received

    def spans(self, count: int) -> list[Any]:
        """The spans recorded so far: the tracer flushes them as a container's stop does (and records no more)."""
        self.tracer.unset_references()
        return [span for _, span in self.received.wait_for(count, timeout=1.0)]


@pytest.fixture
def tracing(monkeypatch: pytest.MonkeyPatch) -> Iterator[Tracing]:
    with otlp_receiver() as (endpoint, received):
        monkeypatch.setenv(ENDPOINT_VARIABLE, endpoint)
        tracer = OpenTelemetryTracer()
        tracer.set_references(References())
        tracer.open(None)
        yield Tracing(tracer, received)
        tracer.unset_references()


@pytest.fixture(scope="module")
def service_url() -> Iterator[str]:
    """Both services of the hello world on our endpoint, with no tracer of their own: the spans are the clients'."""
    services = (
        (HelloWorldServiceFactory.HttpServiceDescriptor, HelloWorldRestService()),
        (HelloWorldServiceFactory.CommandableHttpServiceDescriptor, HelloWorldCommandableHttpService()),
    )
    with serving(GranianHttpEndpoint, free_port(), *services, probe="/hello_world/greeting") as url:
        yield url


def opened_client(client_type: type, uri: str, tracing: Tracing | None, *config: object) -> Any:
    """A client of `client_type` calling `uri` (`config`: more of its configuration), its calls recorded by
    `tracing`'s tracer if given."""
    client = client_type()
    client.configure(ConfigParams.from_tuples("connection.uri", uri, *config))
    client.set_references(References.from_tuples(TRACER, tracing.tracer) if tracing else References())
    client.open(None)
    return client


@contextmanager
def answering(status: int, body: object) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A real HTTP server on a free port answering every GET and POST with `status` and `body` as JSON; yields its
    URL and the headers of each request it received."""
    received: list[dict[str, str]] = []
    content = json.dumps(body).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            received.append(dict(self.headers))
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def do_POST(self) -> None:
            self.do_GET()

        def log_message(self, *_: object) -> None:
            pass

    with http_server(Handler) as url:
        yield url, received


@pytest.mark.parametrize("client_type", CLIENT_TYPES, ids=lambda kind: kind.__name__)
def test_a_client_span_is_named_by_its_method_and_url_template(
    client_type: type, service_url: str, tracing: Tracing
) -> None:
    """Semconv's HTTP client span: `{method} {url.template}`, with the server's address and port and url.full,
    whose query values (here the name and the correlation id) are all REDACTED."""
    client = opened_client(client_type, service_url, tracing)
    assert client.greeting("req-1", "John") == "Hello, John!"
    client.close(None)
    (span,) = tracing.spans(1)
    method, template = CLIENTS[client_type]
    query = "name=REDACTED&correlation_id=REDACTED" if method == "GET" else "correlation_id=REDACTED"
    assert span.name == f"{method} {template}" and span.kind == CLIENT and span.status.code != STATUS_ERROR
    assert attributes(span.attributes) == {
        "http.request.method": method,
        "url.template": template,
        "url.full": f"{service_url}{template}?{query}",
        "server.address": "127.0.0.1",
        "server.port": int(service_url.rsplit(":", 1)[1]),
        "http.response.status_code": 200,
        "pip_services.correlation_id": "req-1",
    }


@pytest.mark.parametrize("client_type", CLIENT_TYPES, ids=lambda kind: kind.__name__)
def test_url_full_has_its_credentials_redacted(client_type: type, service_url: str, tracing: Tracing) -> None:
    """A connection.uri with user:password@ sends them (requests makes them basic authentication), never into a
    span: semconv's `REDACTED:REDACTED@`."""
    credentialed = service_url.replace("http://", "http://ann:s3cret@")
    client = opened_client(client_type, credentialed, tracing)
    assert client.greeting(None, "John") == "Hello, John!"
    client.close(None)
    (span,) = tracing.spans(1)
    values = attributes(span.attributes)
    _, template = CLIENTS[client_type]
    assert values["url.full"].startswith(service_url.replace("http://", "http://REDACTED:REDACTED@") + template)
    assert values["server.address"] == "127.0.0.1"
    assert not [value for value in values.values() if "s3cret" in str(value) or "ann:" in str(value)]


@pytest.mark.parametrize("client_type", CLIENT_TYPES, ids=lambda kind: kind.__name__)
def test_a_refused_connection_has_an_error_type_and_no_status_code(client_type: type, tracing: Tracing) -> None:
    """Nobody listens on the port: no answer, so no http.response.status_code, though pip's RestClient raises an
    InvocationException with status 500; error.type is the exception requests raised."""
    closed = free_port()
    client = opened_client(client_type, f"http://127.0.0.1:{closed}", tracing)
    with pytest.raises(InvocationException) as raised:
        client.greeting("req-2", "John")
    assert raised.value.status == 500 and raised.value.code == "REST_ERROR"
    (span,) = tracing.spans(1)
    values = attributes(span.attributes)
    assert "http.response.status_code" not in values
    assert values["error.type"] == "requests.exceptions.ConnectionError"
    assert values["server.port"] == closed and span.status.code == STATUS_ERROR


def test_a_call_that_times_out_has_an_error_type_and_no_status_code(tracing: Tracing) -> None:
    """A listener that accepts and never answers: the read timeout (options.timeout, 200 ms) gives no answer."""
    with listening_port() as silent:
        client = opened_client(HelloWorldRestClient, f"http://127.0.0.1:{silent}", tracing, "options.timeout", 200)
        with pytest.raises(InvocationException):
            client.greeting(None, "John")
    (span,) = tracing.spans(1)
    values = attributes(span.attributes)
    assert "http.response.status_code" not in values and values["error.type"] == "requests.exceptions.ReadTimeout"


@pytest.mark.parametrize("client_type", CLIENT_TYPES, ids=lambda kind: kind.__name__)
def test_an_error_answer_has_its_status_code_even_one_that_reads_like_a_refused_connection(
    client_type: type, service_url: str, tracing: Tracing
) -> None:
    """A server's 500 describing the very error RestClient makes of a failed connection (InvocationException,
    REST_ERROR) was an answer: it keeps its status code. So does the service's own 400."""
    looks_refused = {
        "category": "FailedInvocation", "code": "REST_ERROR", "status": 500, "message": "REST operation failed",
        "cause": "ConnectionError: refused", "stack_trace": None,
    }  # fmt: skip
    with answering(500, looks_refused) as (url, _):
        client = opened_client(client_type, url, tracing)
        with pytest.raises(InvocationException) as raised:
            client.greeting("req-3", "John")
        assert raised.value.code == "REST_ERROR"
    client = opened_client(client_type, service_url, tracing)
    with pytest.raises(BadRequestException):
        client.greeting("req-4", "x" * 300)
    failed, refused = (attributes(span.attributes) for span in tracing.spans(2))
    assert failed["http.response.status_code"] == 500 and failed["error.type"] == "REST_ERROR"
    assert refused["http.response.status_code"] == 400 and refused["error.type"] == "NAME_TOO_LONG"


@pytest.mark.parametrize("client_type", CLIENT_TYPES, ids=lambda kind: kind.__name__)
def test_a_call_from_a_trace_id_alone_is_a_span_of_that_trace_with_no_parent(
    client_type: type, tracing: Tracing
) -> None:
    """Outside any request, a correlation id that is a trace id gives the trace, and no span to be the child of:
    the call's span has no parent (a parent id nobody recorded is an orphan in every trace viewer), and the
    `traceparent` sent names the call's span."""
    with answering(200, "Hello, John!") as (url, headers):
        client = opened_client(client_type, url, tracing)
        assert client.greeting(TRACE_ID, "John") == "Hello, John!"
    (span,) = tracing.spans(1)
    assert span.trace_id.hex() == TRACE_ID and span.parent_span_id == b""
    sent = trace_context.parse(headers[0]["traceparent"])
    assert sent is not None and sent.trace_id == TRACE_ID and sent.parent_id == span.span_id.hex()


@pytest.mark.parametrize("client_type", CLIENT_TYPES, ids=lambda kind: kind.__name__)
def test_without_a_tracer_a_call_from_a_trace_id_sends_a_valid_traceparent(client_type: type) -> None:
    """No span records the call: the `traceparent` it sends still has a parent id, as W3C requires."""
    with answering(200, "Hello, John!") as (url, headers):
        client = opened_client(client_type, url, None)
        assert client.greeting(TRACE_ID, "John") == "Hello, John!"
    sent = trace_context.parse(headers[0]["traceparent"])
    assert sent is not None and sent.trace_id == TRACE_ID and sent.flags == 1
