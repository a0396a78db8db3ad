"""Logs and tracing in the whole process (`python run.py`): the trace in the log lines written within it, the
OpenTelemetry SDK's own lines in the service's format, probes left out of tracing, and a collector outage (a port
nobody listens on, a listener that never answers, one answering 500 slowly) costing a stop no more than its bound."""

import json
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import certifi
import pytest
import requests
from microservice_chassis.testing import http_server, self_signed_certificate
from microservice_chassis.tracing.exporter import CLOSE_TIMEOUT
from otlp_receiver import attributes, otlp_receiver

from support import RunningProcess

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
Start = Callable[..., tuple[RunningProcess, str]]
REJECTED = "Rejected hello_world.greeting: NAME_TOO_LONG"


def _json_lines(process: RunningProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in process.output.splitlines() if line.strip()]


def test_lines_written_within_a_request_name_its_trace_untraced_too(start_process: Start) -> None:
    """Tracing off: the caller's trace (its parent id as the span), beside the correlation id the client gave."""
    process, url = start_process(OTEL_EXPORTER_OTLP_ENDPOINT="", LOG_FORMAT="json")
    params = {"name": "x" * 300, "correlation_id": "mine"}
    requests.get(f"{url}/hello_world/greeting", params=params, headers={"traceparent": TRACEPARENT}, timeout=5)
    requests.get(f"{url}/hello_world/greeting", params={"name": "x" * 300, "correlation_id": "plain"}, timeout=5)
    process.stop()
    rejected = [line for line in _json_lines(process) if line["message"].startswith(REJECTED)]
    assert [(line["correlation_id"], line.get("trace_id"), line.get("span_id")) for line in rejected] == [
        ("mine", TRACE_ID, PARENT_ID),
        ("plain", None, None),  # no trace: no trace fields
    ]


def test_the_access_line_names_the_request_trace(start_process: Start) -> None:
    """The access line is written after the handler, by the endpoint: it named no trace."""
    process, url = start_process(OTEL_EXPORTER_OTLP_ENDPOINT="", LOG_FORMAT="json", ACCESS_LOG_LEVEL="info")
    requests.get(f"{url}/hello_world/greeting", params={"name": "Ann"}, headers={"traceparent": TRACEPARENT}, timeout=5)
    process.stop()
    (line,) = [line for line in _json_lines(process) if line["logger"] == "access" and "greeting" in line["message"]]
    assert (line["trace_id"], line["span_id"]) == (TRACE_ID, PARENT_ID)


def test_a_request_without_traceparent_logs_its_new_trace_as_correlation_id(start_process: Start) -> None:
    with otlp_receiver() as (endpoint, received):
        process, url = start_process(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, LOG_FORMAT="text")
        answer = requests.get(f"{url}/hello_world/greeting", params={"name": "x" * 300}, timeout=5)
        assert answer.status_code == 400
        process.stop()
        (_, span), *_ = received.wait_for(1, timeout=1.0)
    trace_id, span_id = span.trace_id.hex(), span.span_id.hex()
    assert answer.json()["correlation_id"] == trace_id  # the error body names the trace the span is in
    (line,) = [line for line in process.output.splitlines() if REJECTED in line]
    assert line.startswith(f"[{trace_id}:INFO:") and line.endswith(f"trace_id={trace_id} span_id={span_id}")


def test_probes_and_scrapes_are_no_spans_unless_configured(start_process: Start) -> None:
    with otlp_receiver() as (endpoint, received):
        process, url = start_process(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)
        for path in ("/heartbeat", "/status", "/metrics", "/hello_world/greeting"):
            requests.get(f"{url}{path}", timeout=5)
        process.stop()
        first = {attributes(span.attributes)["url.path"] for _, span in received.wait_for(1, timeout=1.0)}
        assert first == {"/hello_world/greeting"}
        process, url = start_process(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_PYTHON_EXCLUDED_URLS="/hello_world/")
        for path in ("/heartbeat", "/hello_world/greeting"):
            requests.get(f"{url}{path}", timeout=5)
        process.stop()
        paths = [attributes(span.attributes)["url.path"] for _, span in received.wait_for(3, timeout=1.0)]
    # The first run's greeting; this run's probes (the test's own, and those waiting for it to serve).
    assert set(paths) == {"/heartbeat", "/hello_world/greeting"} and paths.count("/hello_world/greeting") == 1


@contextmanager
def collector(kind: str) -> Iterator[str]:
    """An OTLP endpoint that fails: `refused` (nobody listens), `silent` (accepts, never answers), `slow500`
    (answers 500 after half a second)."""
    if kind == "slow500":

        class Failing(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(0.5)
                self.send_error(500)

            def log_message(self, *_: object) -> None:
                """Quiet."""

        with http_server(Failing) as url:
            yield url
        return
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    if kind == "refused":
        listener.close()
    else:
        listener.listen(64)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        listener.close()


def _stop_while_probing(process: RunningProcess, url: str) -> tuple[float, float, float]:
    """SIGTERM; the seconds until readiness said 503 (or the port closed), until the port closed, until the exit."""
    started = time.monotonic()
    process.popen.send_signal(signal.SIGTERM)
    unready = closed = None
    while process.popen.poll() is None:
        try:
            status = requests.get(f"{url}/status", timeout=0.5).status_code
        except requests.ConnectionError:
            status = 0
        now = time.monotonic() - started
        if status != 200 and unready is None:
            unready = now
        if status == 0 and closed is None:
            closed = now
        time.sleep(0.02)
    ended = time.monotonic() - started
    assert process.popen.returncode == 0
    return unready if unready is not None else ended, closed if closed is not None else ended, ended


def _served_then_stopped(start_process: Start, endpoint: str) -> tuple[float, float, float]:
    """_stop_while_probing after 20 greetings, with tracing to `endpoint` ("": off), exporting all along (a batch
    every 50 ms, one in flight as the stop comes) with an export timeout of 30 s."""
    process, url = start_process(
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_EXPORTER_OTLP_TIMEOUT="30", OTEL_BSP_SCHEDULE_DELAY="50"
    )
    for _ in range(20):
        requests.get(f"{url}/hello_world/greeting", timeout=5)
        time.sleep(0.02)
    return _stop_while_probing(process, url)


@pytest.mark.parametrize("kind", ["refused", "silent", "slow500"])
def test_a_collector_outage_costs_a_stop_at_most_the_close_timeout(start_process: Start, kind: str) -> None:
    """Readiness and the port as without tracing (the endpoint closes first); the exit at most CLOSE_TIMEOUT
    later than the port's closing, whatever the export timeout."""
    _, untraced_closed, _ = _served_then_stopped(start_process, "")
    with collector(kind) as endpoint:
        unready, closed, ended = _served_then_stopped(start_process, endpoint)
    assert unready < 0.5 and closed < untraced_closed + 0.5
    assert ended < closed + CLOSE_TIMEOUT + 0.5


def test_a_failing_collector_is_logged_as_json_and_throttled(start_process: Start) -> None:
    with collector("slow500") as endpoint:
        process, url = start_process(
            OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, LOG_FORMAT="json", OTEL_BSP_SCHEDULE_DELAY="50"
        )
        for _ in range(20):
            requests.get(f"{url}/hello_world/greeting", timeout=5)
            time.sleep(0.1)
        process.stop()
    sdk_lines = [line for line in _json_lines(process) if line["logger"].startswith("opentelemetry")]
    assert len(sdk_lines) == 1  # some 4 batches failed: one line
    assert sdk_lines[0]["level"] == "error" and "500" in sdk_lines[0]["message"]


def test_spans_beyond_the_queue_are_dropped_and_counted(start_process: Start) -> None:
    with collector("silent") as endpoint:
        process, url = start_process(
            OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_BSP_MAX_QUEUE_SIZE="4", OTEL_BSP_MAX_EXPORT_BATCH_SIZE="2"
        )
        for _ in range(20):
            requests.get(f"{url}/hello_world/greeting", timeout=5)
        metrics = requests.get(f"{url}/metrics", timeout=5).text
        process.stop()
    (dropped,) = [line for line in metrics.splitlines() if line.startswith("tracing_dropped_spans_total ")]
    # 20, less the 4 queued and the batches of 2 taken for export (the first blocks 2 s on the silent collector).
    assert 10 <= float(dropped.split()[1]) <= 16


def test_a_collector_with_a_ca_of_its_own_gets_the_spans_whatever_requests_ca_bundle_says(
    start_process: Start, tmp_path: Path
) -> None:
    """OTEL_EXPORTER_OTLP_CERTIFICATE names the collector's CA; REQUESTS_CA_BUNDLE, set in many images to the system
    bundle, overrode it (library_fixes/otlp_transport.py)."""
    certificate = self_signed_certificate(tmp_path)
    with otlp_receiver(certificate) as (endpoint, received):
        process, url = start_process(
            OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
            OTEL_EXPORTER_OTLP_CERTIFICATE=str(certificate.cert),
            REQUESTS_CA_BUNDLE=certifi.where(),
        )
        requests.get(f"{url}/hello_world/greeting", timeout=5)
        assert process.stop() == 0
        ((_, span),) = received.wait_for(1, timeout=1.0)
    assert span.name == "GET /hello_world/greeting"
    assert "CERTIFICATE_VERIFY_FAILED" not in process.output
