"""The chassis endpoint as the service's process runs it: its own routes, logs, metrics and files, over real sockets."""

import http.client
import resource
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from microservice_chassis.testing import (
    address_of,
    answers,
    assert_answers_quickly,
    assert_error,
    first_answer,
    non_reading_client,
    poll,
    promtool_problems,
    raw_request,
    rss_mb,
    samples,
)

from support import SERVICE_NAME, RunningProcess

Start = Callable[..., tuple[RunningProcess, str]]


@pytest.mark.parametrize("target", ["/nope", "/hello_world/greeting?name=%01"], ids=["404", "400"])
def test_a_head_error_answer_has_the_length_of_the_get_one(start_process: Start, target: str) -> None:
    """RFC 9110: HEAD's Content-Length is what GET's would be, though bottle drops the body of a HEAD."""
    _, url = start_process()
    lengths = {}
    for method in ("GET", "HEAD"):
        connection = http.client.HTTPConnection(*address_of(url), timeout=5)
        connection.request(method, target)
        response = connection.getresponse()
        response.read()
        lengths[method] = (response.status, response.getheader("Content-Length"))
        connection.close()
    assert lengths["HEAD"] == lengths["GET"] and lengths["GET"][1] is not None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("GET", "/hello_world/greeting?name=%FF&", b""), ("POST", "/v1/hello_world/greeting?", b'{"name": 5}')],
    ids=["rest", "commandable"],
)
@pytest.mark.parametrize("key", ["correlation%5Fid", "%63orrelation_id"])
def test_a_correlation_id_under_an_escaped_key_is_checked_too(
    start_process: Start, method: str, path: str, body: bytes, key: str
) -> None:
    """bottle, and so every service, unescapes query keys: `correlation%5Fid` is the correlation id."""
    process, url = start_process()
    target = f"{path}{key}=x%0d%0a[{SERVICE_NAME}:INFO:2026-01-01T00:00:00Z]%20forged%1b[2J"
    head = f"{method} {target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    status, answer = raw_request(url, f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
    assert assert_error(status, answer, 400)["code"] == "INVALID_CORRELATION_ID"
    assert process.stop() == 0
    assert "forged" not in process.output and "\x1b" not in process.output


@pytest.mark.parametrize(
    ("path", "clients", "times"),
    [("/swagger/swagger-ui-bundle.js", 1000, 4), ("/swagger/swagger-ui-bundle.js.map", 3000, 2)],
    ids=["bundle", "source-map"],
)
def test_clients_that_never_read_files_hold_bounded_memory(
    start_process: Start, many_descriptors: None, path: str, clients: int, times: int
) -> None:
    """Wide margins, which the code before the paced sender failed (348-875 MB, 145-500 MB kept): under 300 MB
    while they stall, and back within 100 MB of the pre-load RSS within 10 s of their leaving; the service
    answers meanwhile. The goal (200 MB, 30 MB) and the figures measured per Python are in docs/http-endpoint.md."""
    process, url = start_process(LOG_LEVEL="warn")
    pid = process.popen.pid
    assert requests.get(f"{url}{path}", timeout=10).status_code == 200
    before = rss_mb(pid)
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    sockets = [non_reading_client(url, request, times) for _ in range(clients)]
    try:
        peak = 0.0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            peak = max(peak, rss_mb(pid))
            time.sleep(0.1)  # sampling interval
        assert_answers_quickly(url)
        assert peak < 300, f"{peak:.0f} MB with {clients} clients not reading"
    finally:
        for sock in sockets:
            sock.close()
    assert poll(lambda: rss_mb(pid) < before + 100, 10), f"{rss_mb(pid):.0f} MB after they left, {before:.0f} before"


def test_the_service_keeps_answering_while_a_burst_of_clients_stalls_on_files(
    start_process: Start, many_descriptors: None
) -> None:
    """3,000 clients arriving at once, each asking twice for the 4.7 MB source map and reading nothing: /heartbeat
    keeps answering, from the burst on (the descriptor scans that find each connection once held the
    event loop for 2 s here)."""
    _, url = start_process(LOG_LEVEL="warn")
    request = b"GET /swagger/swagger-ui-bundle.js.map HTTP/1.1\r\nHost: x\r\n\r\n"
    latencies: list[float] = []
    done = threading.Event()

    def probe() -> None:
        while not done.is_set():
            started = time.monotonic()
            requests.get(f"{url}/heartbeat", timeout=10)
            latencies.append(time.monotonic() - started)
            done.wait(0.05)

    prober = threading.Thread(target=probe)
    prober.start()
    sockets: list[socket.socket] = []
    try:
        sockets.extend(non_reading_client(url, request, 2) for _ in range(3000))
        done.wait(5)  # the burst's first seconds, which is when the loop was held
    finally:
        done.set()
        prober.join()
        for sock in sockets:
            sock.close()
    # Told by the count, a wide margin: the code that held the loop answered 9-13 probes in those 5 s (the slowest
    # 1.4-1.8 s); it now answers 49-89, though one of them may take 2 s on a busy machine (2.04 s once, beside
    # another test run). No probe waits for the whole burst.
    assert len(latencies) >= 30 and max(latencies) < 5.0, f"{len(latencies)} probes, the slowest {max(latencies):.2f} s"


def test_at_the_open_files_limit_files_get_503_and_recover(
    start_process: Start, stalled_sockets: list[socket.socket]
) -> None:
    """Each stalled file answer holds a descriptor: past the limit, a file request is a 503 ErrorDescription with
    Retry-After, logged once without a traceback, and files are served again once the clients have gone."""
    process, url = start_process(LOG_LEVEL="info")
    pid = process.popen.pid
    limit = len(list(Path(f"/proc/{pid}/fd").iterdir())) + 60
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, limit))
    request = b"GET /swagger/swagger-ui-bundle.js HTTP/1.1\r\nHost: x\r\n\r\n"
    for _ in range(100):
        stalled_sockets.append(non_reading_client(url, request, 1))
    answers = [answer for sock in stalled_sockets if (answer := first_answer(sock)) is not None]
    statuses = [status for status, _, _ in answers]
    assert 503 in statuses and set(statuses) <= {200, 503}, statuses
    _, headers, body = next(answer for answer in answers if answer[0] == 503)
    assert_error(503, body, 503)
    assert headers["retry-after"] and headers["content-type"] == "application/json"
    for sock in stalled_sockets:
        sock.close()
    assert poll(lambda: requests.get(f"{url}/swagger/swagger-ui-bundle.js", timeout=5).status_code == 200, 10)
    assert "Traceback" not in process.output
    assert process.output.count("Refusing requests 503") == 1


def test_every_operation_and_route_is_listed_at_zero_before_the_first_request(start_process: Start) -> None:
    _, url = start_process()
    operations = samples(url, "pipservices_exec_total")
    for service in ("hello_world", "v1/hello_world"):
        assert operations[answers(service=service, command="greeting")] == 0
        assert samples(url, "pipservices_exec_errors_total")[answers(service=service, command="greeting")] == 0
        assert (
            samples(url, "pipservices_exec_duration_seconds_count")[answers(service=service, command="greeting")] == 0
        )
    requests_total = samples(url, "http_requests_total")
    assert requests_total[answers(method="GET", route="/hello_world/greeting", status="200")] == 0
    assert requests_total[answers(method="POST", route="/v1/hello_world/greeting", status="200")] == 0
    assert (
        samples(url, "http_request_duration_seconds_count")[answers(method="GET", route="/hello_world/greeting")] == 0
    )


def test_each_answer_is_counted_once_by_method_route_and_status(start_process: Start) -> None:
    """Successes, rejections by the service, by bottle and by the guards, and the probes and /metrics themselves:
    the counts grow by exactly the answers given (the first /metrics read is counted in the second)."""
    _, url = start_process()
    before = samples(url, "http_requests_total")
    host = url.removeprefix("http://")
    sent: Counter[tuple[str, str, str]] = Counter()
    for _ in range(3):
        assert requests.get(f"{url}/hello_world/greeting", params={"name": "John"}, timeout=5).status_code == 200
    sent["GET", "/hello_world/greeting", "200"] += 3
    for _ in range(2):
        assert requests.get(f"{url}/hello_world/greeting", params={"name": "\x00"}, timeout=5).status_code == 400
    sent["GET", "/hello_world/greeting", "400"] += 2
    assert requests.post(f"{url}/v1/hello_world/greeting", json={"name": "Ann"}, timeout=5).status_code == 200
    sent["POST", "/v1/hello_world/greeting", "200"] += 1
    assert requests.get(f"{url}/heartbeat", timeout=5).status_code == 200
    sent["GET", "/heartbeat", "200"] += 1
    assert requests.get(f"{url}/status", timeout=5).status_code == 200
    sent["GET", "/status", "200"] += 1
    assert requests.get(f"{url}/no/such/route?x=1", timeout=5).status_code == 404  # the raw path is no label
    sent["GET", "unmatched", "404"] += 1
    assert requests.get(f"{url}/v1/hello_world/greeting", timeout=5).status_code == 405
    sent["GET", "/v1/hello_world/greeting", "405"] += 1  # a real route: its template
    assert requests.request("BREW", f"{url}/heartbeat", timeout=5).status_code == 405  # a method of the client's
    sent["other", "/heartbeat", "405"] += 1
    assert requests.post(f"{url}/v1/hello_world/greeting", data=b"x" * 20000, timeout=5).status_code == 413
    sent["POST", "/v1/hello_world/greeting", "413"] += 1
    assert requests.get(f"{url}/heartbeat", headers={"X-Big": "x" * 17000}, timeout=5).status_code == 431
    sent["GET", "unmatched", "431"] += 1
    status, _ = raw_request(url, f"GET /heartbeat HTTP/1.1\r\nHost: {host}\r\nHost: {host}\r\n\r\n".encode())
    assert status == 400  # two Hosts: refused by the guards
    sent["GET", "unmatched", "400"] += 1
    sent["GET", "/metrics", "200"] += 1  # the first read
    after = samples(url, "http_requests_total")
    grown = {labels: value - before.get(labels, 0) for labels, value in after.items() if value != before.get(labels, 0)}
    assert grown == {answers(method=m, route=r, status=s): n for (m, r, s), n in sent.items()}
    durations = samples(url, "http_request_duration_seconds_count")
    assert durations[answers(method="GET", route="/hello_world/greeting")] == 5
    text = requests.get(f"{url}/metrics", timeout=5).text
    assert promtool_problems(text) == ""  # with every kind of answer counted
    assert 'instance="' not in text and 'job="' not in text
