"""The endpoint off Linux: its slow-client defence reads Linux's kernel (/proc/self/fd, struct tcp_info, SIOCOUTQ)
behind one check, sockets.LINUX; elsewhere it goes without (see sockets.py for what is lost) and serves as ever.

The fallback is taken here on Linux by turning that flag off: everything else is the real endpoint, real sockets."""

import asyncio
import socket
import sys
import threading
import time

import pytest
import requests
from microservice_chassis.http import sockets
from microservice_chassis.testing import address_of, non_reading_client, poll

from doubles import BIG_ANSWER, Start

SWEEPER_THREAD = "http-stall-sweeper"


def sweepers() -> int:
    """Stall sweepers running in this process."""
    return sum(thread.name == SWEEPER_THREAD for thread in threading.enumerate())


def answer_arriving(sock: socket.socket) -> bool:
    """Whether bytes of an answer wait in the client's receive buffer (left there, unread)."""
    try:
        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except BlockingIOError:
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="the lookup it turns off exists only on Linux")
def test_off_linux_no_connection_is_looked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection of this process is found by its addresses on Linux, and not looked for without it: no scan of
    /proc/self/fd, and None, with which a large answer is streamed unpaced."""
    with socket.create_server(("127.0.0.1", 0)) as listener, socket.create_connection(listener.getsockname()):
        accepted, peer = listener.accept()
        with accepted:
            key = (f"127.0.0.1:{listener.getsockname()[1]}", f"{peer[0]}:{peer[1]}")
            assert asyncio.run(sockets.ConnectionSockets().locate(*key)) == accepted.fileno()
            monkeypatch.setattr(sockets, "LINUX", False)
            assert asyncio.run(sockets.ConnectionSockets().locate(*key)) is None


def test_off_linux_the_endpoint_serves_and_closes(
    start_endpoint: Start, monkeypatch: pytest.MonkeyPatch, stalled_sockets: list[socket.socket]
) -> None:
    """No sweeper starts; small and large answers arrive whole; and closing frees the port within the drain
    timeout (1 s; the margin is for a loaded machine) though a client that reads nothing holds a large answer, which
    no send deadline cuts off here."""
    monkeypatch.setattr(sockets, "LINUX", False)
    running = sweepers()
    endpoint, _, url = start_endpoint("options.drain_timeout", 1000)
    assert sweepers() == running
    assert requests.get(f"{url}/heartbeat", timeout=5).status_code == 200
    response = requests.get(f"{url}/probe/big", timeout=10)
    assert (response.status_code, response.content) == (200, BIG_ANSWER)
    client = non_reading_client(url, b"GET /probe/big HTTP/1.1\r\nHost: x\r\n\r\n", 1)
    stalled_sockets.append(client)
    assert poll(lambda: answer_arriving(client), 5)
    started = time.monotonic()
    endpoint.close(None)
    assert time.monotonic() - started < 1 + 2
    assert not endpoint.is_open()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address_of(url), timeout=5).close()
