"""Slow and idle clients: trickled headers and bodies, stalled bodies, idle connections and the read deadlines."""

import contextlib
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, cast

import pytest
import requests
from microservice_chassis.testing import address_of, assert_answers_quickly, assert_error, free_port, raw_request

from doubles import STALLED_BODIES, Start

# --- idle and trickling clients -------------------------------------------------------------------


def test_idle_and_trickling_clients_cannot_starve_it(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    address = ("127.0.0.1", int(url.rsplit(":", 1)[1]))
    idle = [socket.create_connection(address) for _ in range(100)]
    trickling = [socket.create_connection(address) for _ in range(20)]
    stop = threading.Event()

    def trickle() -> None:
        line = b"GET /heartbeat HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
        for byte_index in range(len(line)):
            if stop.wait(0.02):
                return
            for sock in trickling:
                try:
                    sock.send(line[byte_index : byte_index + 1])
                except OSError:
                    return

    trickler = threading.Thread(target=trickle)
    trickler.start()
    try:
        latencies = []
        for _ in range(20):
            started = time.monotonic()
            assert requests.get(f"{url}/heartbeat", timeout=5).status_code == 200
            latencies.append(time.monotonic() - started)
        assert max(latencies) < 0.1, latencies
    finally:
        stop.set()
        trickler.join()
        for sock in idle + trickling:
            sock.close()


def test_header_read_timeout_closes_slow_and_idle_connections(start_endpoint: Start) -> None:
    _, _, url = start_endpoint("options.header_read_timeout", 300)
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=5) as sock:
        sock.sendall(b"GET /heartbeat HTTP/1.1\r\n")  # and never the end of the headers
        started = time.monotonic()
        sock.recv(1024)  # returns when the server gives up on the connection
        assert time.monotonic() - started < 3


# --- stalled bodies -------------------------------------------------------------------------------


def test_twenty_clients_stalling_bodies_do_not_stall_other_requests(
    start_endpoint: Start, stalled_sockets: list[socket.socket]
) -> None:
    _, _, url = start_endpoint()
    for index in range(20):
        sock = socket.create_connection(address_of(url))
        sock.sendall(STALLED_BODIES[index % len(STALLED_BODIES)])
        stalled_sockets.append(sock)
    assert_answers_quickly(url)


@pytest.mark.parametrize(
    "request_bytes", STALLED_BODIES, ids=["get-chunked", "get-length", "post-chunked", "post-length"]
)
def test_a_body_not_sent_within_the_deadline_gets_408(start_endpoint: Start, request_bytes: bytes) -> None:
    """A GET's body is read as a POST's is: within the body deadline, so a client that stalls it holds nothing long."""
    _, _, url = start_endpoint("options.body_read_timeout", 300)
    started = time.monotonic()
    status, body = raw_request(url, request_bytes)
    assert_error(status, body, 408)
    assert time.monotonic() - started < 5


def test_a_trickled_body_is_cut_off_at_the_deadline(start_endpoint: Start) -> None:
    _, _, url = start_endpoint("options.body_read_timeout", 500)
    with socket.create_connection(address_of(url), timeout=10) as sock:
        sock.sendall(b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        started = time.monotonic()
        answer = b""
        while not answer and time.monotonic() - started < 8:
            sock.sendall(b" ")  # one byte at a time, never finishing
            sock.settimeout(0.1)
            with contextlib.suppress(TimeoutError):
                answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408 ")


# --- many idle connections ------------------------------------------------------------------------


def test_thousands_of_idle_connections_leave_it_answering(tmp_path: Path) -> None:
    """10,000 idle connections from another process (the service's side needs as many descriptors)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    count = min(10_000, hard - 200)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE_HEARTBEAT, str(port)], cwd=Path(__file__).parent.parent, stdout=subprocess.PIPE
    )
    idle: list[socket.socket] = []
    try:
        assert cast(IO[bytes], server.stdout).readline().strip() == b"ready"
        url = f"http://127.0.0.1:{port}"
        for _ in range(count):
            idle.append(socket.create_connection(("127.0.0.1", port)))
        assert_answers_quickly(url)
    finally:
        for sock in idle:
            sock.close()
        server.kill()
        server.wait()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


SERVE_HEARTBEAT = """
import sys, threading
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.refer import Descriptor, References
from pip_services3_rpc.services import HeartbeatRestService
from microservice_chassis.http.endpoint import GranianHttpEndpoint
endpoint, heartbeat = GranianHttpEndpoint(), HeartbeatRestService()
endpoint.configure(ConfigParams.from_tuples("connection.host", "127.0.0.1", "connection.port", sys.argv[1]))
references = References.from_tuples(
    Descriptor("hello-world", "endpoint", "http", "default", "1.0"), endpoint,
    Descriptor("pip-services", "heartbeat-service", "http", "default", "1.0"), heartbeat,
)
heartbeat.set_references(references)
endpoint.set_references(references)
endpoint.open(None)
heartbeat.open(None)
print("ready", flush=True)
threading.Event().wait()
"""
