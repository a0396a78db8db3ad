"""Clients that never read their answers: the send deadline, the unread-answer memory bound, the open-files limit."""

import errno
import socket
from collections.abc import Iterator

import pytest
import requests
from microservice_chassis.testing import (
    assert_answers_quickly,
    assert_error,
    non_reading_client,
    poll,
    still_connected,
)
from pip_services3_commons.config import ConfigParams
from pip_services3_components.log import ConsoleLogger

from doubles import BIG_ANSWER, Start


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


def test_out_of_descriptors_after_the_handler_is_a_503_too(
    start_endpoint: Start, capfd: pytest.CaptureFixture[str]
) -> None:
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
