"""The service under a low open-files limit (ulimit -n), set for run.py alone as a container runtime sets it: a limit
too low to serve is one line and exit 1 (it was a Rust panic, or one connection served without a word); a low but
usable one serves as many connections as its descriptors allow, says so once, and still answers its probes."""

import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from microservice_chassis.testing import assert_one_line_failure, wait_until_serving

from support import RUN_PY, process_env

# Idle connections one client holds: more than the 64-descriptor margin of old left at a limit of 160.
IDLE_CONNECTIONS = 100


def limited_to(files: int) -> Callable[[], None]:
    """Sets the child's open-files limit, soft and hard, before it runs run.py."""
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))


@pytest.mark.parametrize("files", [16, 32])
def test_a_limit_too_low_to_serve_is_one_line_and_exit_1(tmp_path: Path, port: int, files: int) -> None:
    result = subprocess.run(
        [sys.executable, str(RUN_PY)],
        cwd=tmp_path,
        env=process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port)),
        preexec_fn=limited_to(files),
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert_one_line_failure(result, f"open-files limit (ulimit -n) is {files}", "needs at least")


@pytest.fixture
def idle_connections() -> Iterator[list[socket.socket]]:
    """Connections that never send a byte, closed after the test."""
    sockets: list[socket.socket] = []
    yield sockets
    for sock in sockets:
        sock.close()


def test_a_low_limit_still_answers_probes_past_many_idle_connections(
    tmp_path: Path, port: int, idle_connections: list[socket.socket]
) -> None:
    """At 160 files the endpoint serves every connection the descriptors allow, 100 idle ones and the probe
    besides, and warns once that it serves fewer than max_connections (a 16,384 limit is raised to nothing)."""
    with open(tmp_path / "output.txt", "w") as output:
        process = subprocess.Popen(
            [sys.executable, str(RUN_PY)],
            cwd=tmp_path,
            env=process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port)),
            preexec_fn=limited_to(160),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{url}/heartbeat")
        for _ in range(IDLE_CONNECTIONS):
            idle_connections.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        for path in ("/heartbeat", "/status", "/metrics", "/hello_world/greeting"):
            started = time.monotonic()
            assert requests.get(f"{url}{path}", timeout=2).status_code == 200
            assert time.monotonic() - started < 1.0, path
        warnings = [line for line in (tmp_path / "output.txt").read_text().splitlines() if "open-files limit" in line]
        assert len(warnings) == 1 and "not max_connections 16384" in warnings[0], warnings
    finally:
        process.kill()
        process.wait()
