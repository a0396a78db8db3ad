"""Tracing in the whole process (`python run.py`): W3C trace context on the endpoint, the clients carrying it on,
and OpenTelemetry spans exported to a real OTLP/HTTP receiver only when OTEL_EXPORTER_OTLP_ENDPOINT is set."""

import json
import re
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from microservice_chassis.testing import address_of, raw_request
from microservice_chassis.tracing import trace_context
from microservice_chassis.tracing.settings import ENDPOINT_VARIABLE
from microservice_chassis.tracing.trace_context import TraceContext
from microservice_chassis.tracing.tracer import OpenTelemetryTracer
from otlp_receiver import attributes, otlp_receiver
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import BadRequestException
from pip_services3_commons.refer import Descriptor, References

from HelloWorldCommandableHttpClient import HelloWorldCommandableHttpClient
from HelloWorldRestClient import HelloWorldRestClient
from support import SERVICE_NAME, RunningProcess

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
Start = Callable[..., tuple[RunningProcess, str]]
RunToExit = Callable[..., subprocess.CompletedProcess[str]]
SERVER, CLIENT = 2, 3  # OTLP's Span.SpanKind
STATUS_ERROR = 2  # OTLP's Status.StatusCode
TRACER = Descriptor("chassis", "tracer", "opentelemetry", "default", "1.0")


def test_the_trace_id_is_the_correlation_id_when_none_is_given(start_process: Start) -> None:
    _, url = start_process(OTEL_EXPORTER_OTLP_ENDPOINT="")
    greeting = f"{url}/hello_world/greeting"
    refused = requests.get(greeting, params={"name": "x" * 300}, headers={"traceparent": TRACEPARENT}, timeout=5)
    assert refused.status_code == 400 and refused.json()["correlation_id"] == TRACE_ID
    both = requests.get(
        greeting, params={"name": "x" * 300, "correlation_id": "mine"}, headers={"traceparent": TRACEPARENT}, timeout=5
    )
    assert both.json()["correlation_id"] == "mine"


def test_a_malformed_traceparent_is_ignored_and_never_logged(start_process: Start) -> None:
    process, url = start_process(OTEL_EXPORTER_OTLP_ENDPOINT="", ACCESS_LOG_LEVEL="info")
    greeting = f"{url}/hello_world/greeting"
    for junk in ["junk\u00e9]:[x", f"00-{'0' * 32}-{PARENT_ID}-01", TRACEPARENT.upper(), "00-" + "a" * 300]:
        answer = requests.get(greeting, params={"name": "x" * 300}, headers={"traceparent": junk}, timeout=5)
        assert answer.status_code == 400 and answer.json()["correlation_id"] is None
        assert requests.get(greeting, headers={"traceparent": junk}, timeout=5).status_code == 200
    process.stop()
    assert "junk" not in process.output and "a" * 40 not in process.output


def test_several_traceparents_are_one_malformed_trace_for_the_correlation_id_and_the_span(start_process: Start) -> None:
    """Two headers (a future version first, whose extra fields could swallow the second): no trace of the
    caller's, so the span starts a trace of its own, whose id is the correlation id."""
    with otlp_receiver() as (endpoint, received):
        process, url = start_process(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)
        future = f"cc-{'1' * 32}-{'2' * 16}-01-x"
        correlation_ids = []
        for first, second in ((future, TRACEPARENT), (TRACEPARENT, future)):
            request = (
                f"GET /hello_world/greeting?name={'x' * 300} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                f"traceparent: {first}\r\ntraceparent: {second}\r\n\r\n"
            )
            status, body = raw_request(url, request.encode())
            assert status == 400
            correlation_ids.append(json.loads(body)["correlation_id"])
        process.stop()
        spans = received.wait_for(2, timeout=1.0)
    assert {span.trace_id.hex() for _, span in spans}.isdisjoint({"1" * 32, TRACE_ID})
    assert all(not span.parent_span_id for _, span in spans)
    assert sorted(correlation_ids) == sorted(span.trace_id.hex() for _, span in spans)


def test_requests_are_exported_as_spans_and_a_sigterm_loses_none(start_process: Start) -> None:
    """The default batch delay is 5 s: the spans arrive at once only because closing flushes them."""
    with otlp_receiver() as (endpoint, received):
        process, url = start_process(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)
        greeting = f"{url}/hello_world/greeting"
        headers = {"traceparent": TRACEPARENT, "tracestate": "congo=t61rcWkgMzE"}
        assert requests.get(greeting, params={"name": "John"}, headers=headers, timeout=5).json() == "Hello, John!"
        bad = requests.get(greeting, params={"name": "x" * 300, "correlation_id": "mine"}, timeout=5)
        assert bad.status_code == 400
        requests.post(f"{url}/v1/hello_world/greeting", json={"name": "Ann"}, timeout=5)
        started = time.monotonic()
        assert process.stop() == 0
        spans = received.wait_for(4, timeout=1.0)
        assert time.monotonic() - started < 5  # sent on close, not by the batch timer
    (resource, ok), *others = [(r, s) for r, s in spans if s.trace_id.hex() == TRACE_ID]
    assert not others and ok.name == "GET /hello_world/greeting"
    assert resource["service.name"] == SERVICE_NAME
    assert ok.trace_id.hex() == TRACE_ID and ok.parent_span_id.hex() == PARENT_ID and ok.kind == SERVER
    assert ok.trace_state == "congo=t61rcWkgMzE"
    ok_attributes = attributes(ok.attributes)
    assert ok_attributes["http.response.status_code"] == 200 and ok_attributes["http.route"] == "/hello_world/greeting"
    assert ok_attributes["pip_services.correlation_id"] == TRACE_ID and ok.status.code != STATUS_ERROR
    refused = [span for _, span in spans if attributes(span.attributes).get("http.response.status_code") == 400]
    assert len(refused) == 1 and attributes(refused[0].attributes)["error.type"] == "NAME_TOO_LONG"
    assert attributes(refused[0].attributes)["pip_services.correlation_id"] == "mine"
    assert refused[0].status.code != STATUS_ERROR  # a 4xx is the client's mistake, not a failure of the server
    assert "POST /v1/hello_world/greeting" in {span.name for _, span in spans}


def test_a_request_with_no_route_has_its_span_named_by_the_method(start_process: Start) -> None:
    """A path no route matches is named by its method alone (paths are unbounded); OTEL_SERVICE_NAME names the
    service; every error span has the code of the answer's ErrorDescription."""
    with otlp_receiver() as (endpoint, received):
        process, url = start_process(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_SERVICE_NAME="greeter")
        requests.get(f"{url}/no/such/route", timeout=5)
        assert requests.get(f"{url}/hello_world/greeting?name={'x' * 9000}", timeout=5).status_code == 414
        process.stop()
        spans = received.wait_for(2, timeout=1.0)
    (resource, span), *_ = [(r, s) for r, s in spans if attributes(s.attributes)["url.path"] == "/no/such/route"]
    assert resource["service.name"] == "greeter" and span.name == "GET"
    assert attributes(span.attributes)["http.response.status_code"] == 404
    assert attributes(span.attributes)["error.type"] == "NOT_FOUND" and span.status.code != STATUS_ERROR
    # Refused by the endpoint's guards, before any route: the span still has the code the client got.
    (refused,) = [s for _, s in spans if attributes(s.attributes)["http.response.status_code"] == 414]
    assert attributes(refused.attributes)["error.type"] == "REQUEST_URI_TOO_LONG"


def test_the_clients_carry_the_trace_on(start_process: Start) -> None:
    """A call made while a request is served belongs to its trace (the span it sends is the client span); a call
    given a trace id as its correlation id belongs to that trace."""
    with otlp_receiver() as (endpoint, received):
        process, url = start_process(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)
        _, port = address_of(url)
        for client_type in (HelloWorldRestClient, HelloWorldCommandableHttpClient):
            client: Any = client_type()
            client.configure(ConfigParams.from_tuples("connection.host", "127.0.0.1", "connection.port", port))
            client.open(None)
            with trace_context.serving(TraceContext(TRACE_ID, PARENT_ID, 1)):
                assert client.greeting("some-id", "John") == "Hello, John!"
            other = "0af7651916cd43dd8448eb211c80319c"
            with pytest.raises(BadRequestException):
                client.greeting(other, "x" * 300)
            client.close(None)
        process.stop()
        spans = [span for _, span in received.wait_for(5, timeout=1.0)]
    served = [span for span in spans if span.trace_id.hex() == TRACE_ID]
    assert len(served) == 2 and all(span.parent_span_id.hex() == PARENT_ID for span in served)
    derived = [span for span in spans if span.trace_id.hex() == "0af7651916cd43dd8448eb211c80319c"]
    assert len(derived) == 2 and all(len(span.parent_span_id) == 8 for span in derived)


def test_a_call_from_a_trace_id_alone_is_the_root_of_its_trace(
    start_process: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clients recording spans too (a real tracer in this process, exporting to the same receiver): a call
    given a trace id as its correlation id, outside any request, is a client span with no parent, and the service's
    span is its child, so that no span of the trace names a parent the trace lacks (an orphan in trace viewers)."""
    with otlp_receiver() as (endpoint, received):
        process, url = start_process(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)
        monkeypatch.setenv(ENDPOINT_VARIABLE, endpoint)
        tracer = OpenTelemetryTracer()
        tracer.set_references(References())
        tracer.open(None)
        for client_type in (HelloWorldRestClient, HelloWorldCommandableHttpClient):
            client: Any = client_type()
            client.configure(ConfigParams.from_tuples("connection.uri", url))
            client.set_references(References.from_tuples(TRACER, tracer))
            client.open(None)
            assert client.greeting(TRACE_ID, "John") == "Hello, John!"
            client.close(None)
        tracer.unset_references()
        process.stop()
        spans = [span for _, span in received.wait_for(4, timeout=1.0)]
    assert len(spans) == 4 and {span.trace_id.hex() for span in spans} == {TRACE_ID}
    clients = [span for span in spans if span.kind == CLIENT]
    assert {span.name for span in clients} == {"GET /hello_world/greeting", "POST /v1/hello_world/greeting"}
    assert all(span.parent_span_id == b"" for span in clients)
    servers = [span for span in spans if span.kind == SERVER]
    assert sorted(span.parent_span_id for span in servers) == sorted(span.span_id for span in clients)


def test_without_an_endpoint_opentelemetry_is_never_imported(start_process: Start) -> None:
    """python -X importtime (PYTHONPROFILEIMPORTTIME) lists every module the process imported."""
    process, url = start_process(OTEL_EXPORTER_OTLP_ENDPOINT="", PYTHONPROFILEIMPORTTIME="1")
    requests.get(f"{url}/hello_world/greeting", headers={"traceparent": TRACEPARENT}, timeout=5)
    process.stop()
    assert re.search(r"\|\s+pip_services3_rpc\b", process.output) and "opentelemetry" not in process.output


def test_with_an_endpoint_opentelemetry_is_imported(start_process: Start) -> None:
    """The counterpart of the test above, so that it can fail: the same listing shows the SDK when tracing is on."""
    with otlp_receiver() as (endpoint, _):
        process, _ = start_process(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, PYTHONPROFILEIMPORTTIME="1")
        process.stop()
    assert re.search(r"\|\s+opentelemetry\.sdk\.trace\b", process.output)


def test_a_refusal_on_a_route_names_it_in_the_span_as_in_the_metrics(start_process: Start) -> None:
    """In maintenance (a 503 before any handler) and for a method the route does not take (405): the span is named
    by the route, as http_requests_total counts the answer under it."""
    with otlp_receiver() as (endpoint, received):
        process, url = start_process(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, MAINTENANCE="true")
        assert requests.get(f"{url}/hello_world/greeting", timeout=5).status_code == 503
        assert requests.delete(f"{url}/hello_world/greeting", timeout=5).status_code == 503
        scrape = requests.get(f"{url}/metrics", timeout=5).text
        process.stop()
        spans = received.wait_for(2, timeout=1.0)
    assert sorted(span.name for _, span in spans) == ["DELETE /hello_world/greeting", "GET /hello_world/greeting"]
    assert {attributes(span.attributes)["http.route"] for _, span in spans} == {"/hello_world/greeting"}
    assert 'http_requests_total{method="DELETE",route="/hello_world/greeting",status="503"} 1.0' in scrape


@pytest.mark.parametrize("off", [{"OTEL_TRACES_EXPORTER": "none"}, {"OTEL_SDK_DISABLED": "TRUE"}], ids=str)
def test_the_standard_variables_turn_tracing_off(start_process: Start, off: dict[str, str]) -> None:
    """The SDK reads them only in its auto-configuration: they were ignored and the spans sent. Any span is sent
    by the time the process has exited (the tracer flushes on the way out)."""
    with otlp_receiver() as (endpoint, received):
        process, url = start_process(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, **off)
        requests.get(f"{url}/hello_world/greeting", timeout=5)
        assert process.stop() == 0
        assert received.spans == []


@pytest.mark.parametrize(
    ("variable", "value"),
    [("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
     ("OTEL_TRACES_EXPORTER", "zipkin")],
)  # fmt: skip
def test_an_exporter_or_protocol_not_spoken_stops_the_start_in_one_line(
    run_to_exit: RunToExit, variable: str, value: str
) -> None:
    done = run_to_exit(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9", **{variable: value})
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    # Told by the container as the tracer's failure to configure: "Cannot locate reference: chassis:tracer:...: "
    assert done.stderr.startswith(f"{SERVICE_NAME}: ") and f": {variable}='{value}' is not a" in done.stderr
