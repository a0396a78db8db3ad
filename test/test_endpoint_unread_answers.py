"""Clients that never read their answers: the send deadline, the unread-answer memory bound, the open-files limit."""

import errno
import http.client
import resource
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from pip_services3_commons.config import ConfigParams
from pip_services3_components.log import ConsoleLogger

from support import (
    BIG_ANSWER,
    Start,
    assert_answers_quickly,
    assert_error,
    non_reading_client,
    poll,
    rss_mb,
    still_connected,
)


def heartbeat_answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/heartbeat", timeout=0.5).status_code == 200
    except requests.RequestException:
        return False


# --- the send deadline ----------------------------------------------------------------------------


def test_clients_that_never_read_lose_their_slots_at_the_send_deadline(
    start_endpoint: Start, stalled_sockets: list[socket.socket]
) -> None:
    """At the slot limit, clients pipelining thousands of small requests and reading nothing are cut off once
    they have accepted nothing for send_timeout: a fresh /heartbeat is answered again."""
    _, _, url = start_endpoint("options.send_timeout", 1000, "options.max_connections", 10)
    request = b"GET /heartbeat HTTP/1.1\r\nHost: x\r\n\r\n"
    for _ in range(10):
        stalled_sockets.append(non_reading_client(url, request, 5000))
    assert poll(lambda: heartbeat_answers(url), 15)
    assert_answers_quickly(url)


@pytest.mark.parametrize("path", ["/probe/big", "/heartbeat"], ids=["large", "small"])
def test_a_client_that_never_reads_is_cut_off_at_the_send_deadline(
    start_endpoint: Start, stalled_sockets: list[socket.socket], path: str
) -> None:
    """Whether it asked for a large answer (streamed) or for thousands of small ones (answered whole)."""
    _, _, url = start_endpoint("options.send_timeout", 1000)
    sock = non_reading_client(url, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 5000)
    stalled_sockets.append(sock)
    assert poll(lambda: not still_connected(sock), 15)


def test_a_large_answer_still_arrives_whole(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    response = requests.get(f"{url}/probe/big", timeout=10)
    assert response.status_code == 200 and response.content == BIG_ANSWER


# --- the memory unread answers hold ---------------------------------------------------------------


@pytest.fixture
def many_descriptors() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize(
    ("path", "clients", "times"),
    [("/swagger/swagger-ui-bundle.js", 1000, 4), ("/swagger/swagger-ui-bundle.js.map", 3000, 2)],
    ids=["bundle", "source-map"],
)
def test_clients_that_never_read_files_hold_bounded_memory(
    start_process: Callable, many_descriptors: None, path: str, clients: int, times: int
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
    start_process: Callable, many_descriptors: None
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


def test_beyond_the_answer_memory_bound_large_answers_get_503_and_recover(
    start_endpoint: Start, stalled_sockets: list[socket.socket]
) -> None:
    """Room for one window of unread answer in all: while a client that stopped reading holds it, another large
    answer is a 503 with Retry-After; small answers still go, and large ones again once the non-reader has gone."""
    endpoint, _, url = start_endpoint("options.max_unread_total", 100_000)
    huge = b"x" * 16_000_000  # more than the kernel's socket buffers take: the answer stays held in the process
    endpoint.register_route("GET", "/huge", None, lambda: huge)
    stalled = non_reading_client(url, b"GET /huge HTTP/1.1\r\nHost: x\r\n\r\n", 1)
    stalled_sockets.append(stalled)
    # Its answer has begun (so holds its window) once its status line arrives; then it reads nothing more.
    stalled.settimeout(5)
    assert stalled.recv(12) == b"HTTP/1.1 200"
    response = requests.get(f"{url}/probe/big", timeout=5)
    assert_error(response.status_code, response.content, 503)
    assert response.headers["Retry-After"]
    assert_answers_quickly(url)
    stalled.close()
    assert poll(lambda: requests.get(f"{url}/probe/big", timeout=5).status_code == 200, 10)


# --- the open-files limit -------------------------------------------------------------------------


def first_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes] | None:
    """The status, headers and (for an error) body of the first answer on `sock`; None if none came in 2 s."""
    sock.settimeout(2)
    try:
        response = http.client.HTTPResponse(sock)
        response.begin()
    except (TimeoutError, OSError, http.client.HTTPException):
        return None
    body = response.read() if response.status >= 400 else b""
    return response.status, {name.lower(): value for name, value in response.getheaders()}, body


def test_at_the_open_files_limit_files_get_503_and_recover(
    start_process: Callable, stalled_sockets: list[socket.socket]
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


def test_out_of_descriptors_after_the_handler_is_a_503_too(start_endpoint: Start, capfd: pytest.CaptureFixture) -> None:
    """At the open-files limit, code after the handler can fail too (an answer read as it is sent; on Python 3.15
    the formatting of a handler's traceback, which imports a module): still the 503, not a 500 with a traceback."""
    logger = ConsoleLogger()
    logger.configure(ConfigParams.from_tuples("level", "info"))
    endpoint, _, url = start_endpoint(logger=logger)

    def answer() -> Iterator[bytes]:
        yield b"part"
        raise OSError(errno.EMFILE, "Too many open files")

    endpoint.register_route("GET", "/exhausted", None, answer)
    response = requests.get(f"{url}/exhausted", timeout=5)
    assert_error(response.status_code, response.content, 503)
    assert response.headers["Retry-After"]
    logged = "".join(capfd.readouterr())
    assert "Refusing requests 503 while short of resources: Too many open files" in logged
    assert "Traceback" not in logged and "ERROR" not in logged
