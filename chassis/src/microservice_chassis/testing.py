"""What the tests of the chassis and of a service on it share: free ports, readiness by polling, raw HTTP over real
sockets, the service's own metrics, and the checks every answer and startup failure must pass.

Shipped with the package so that a service's test suite uses the same helpers as the chassis' own (nothing here
mocks a part: every helper talks to a real socket, process or pipe).
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import ast
import contextlib
import http.client
import json
import os
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.refer import Descriptor, References
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics import parser as openmetrics_parser
from prometheus_client.parser import text_string_to_metric_families

# The descriptor the services look their endpoint up by (`*:endpoint:http:*:1.0`), for any endpoint type.
ENDPOINT_DESCRIPTOR = Descriptor("pip-services", "endpoint", "http", "default", "1.0")


def free_port() -> int:
    """A port nobody listens on now: the kernel picks it when binding port 0."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(
    endpoint_type: type, port: int, *services: tuple[Descriptor, Any], probe: str, others: tuple[Any, ...] = ()
) -> Iterator[str]:
    """The `services` (descriptor, component pairs) referenced, with `others` (descriptor, component, ...: what they
    find, such as a controller), on a real shared endpoint of `endpoint_type` on 127.0.0.1:`port`, as the container
    wires them; yields the base URL once `probe` (a path) answers."""
    endpoint = endpoint_type()
    endpoint.configure(
        ConfigParams.from_tuples("connection.protocol", "http", "connection.host", "127.0.0.1", "connection.port", port)
    )
    references = References.from_tuples(ENDPOINT_DESCRIPTOR, endpoint, *others, *(x for pair in services for x in pair))
    endpoint.set_references(references)
    for _, service in services:
        service.set_references(references)
    endpoint.open(None)
    for _, service in services:
        service.open(None)
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(f"{url}{probe}")
    try:
        yield url
    finally:
        for _, service in services:
            service.close(None)
        endpoint.close(None)


def wait_until_serving(url: str, timeout: float = 10.0) -> requests.Response:
    """Polls `url` until it answers anything but a connection error or a 404 (routes not registered yet)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = requests.get(url, timeout=1)
            if response.status_code != 404:
                return response
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout} s")
        time.sleep(0.02)  # poll interval, not a wait for readiness


TCP_ESTABLISHED = 1


def address_of(url: str) -> tuple[str, int]:
    """The host and port of a base URL such as http://127.0.0.1:8080."""
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


@dataclass(frozen=True)
class Certificate:
    cert: Path  # PEM: the certificate, its own CA
    key: Path


def self_signed_certificate(directory: Path) -> Certificate:
    """A certificate for 127.0.0.1 signed by itself, made by openssl (the test is skipped where there is none): a
    server with a CA of its own, as a private collector has."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed here")
    certificate = Certificate(directory / "cert.pem", directory / "key.pem")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(certificate.key), "-out", str(certificate.cert)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return certificate


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler], certificate: Certificate | None = None) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 at a free port, `handler` answering on a thread per request, over TLS with
    `certificate` when given; yields its base URL, and stops it on the way out."""
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        scheme = "http"
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certificate.cert, certificate.key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
            scheme = "https"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            thread.join()


@contextmanager
def listening_port() -> Iterator[int]:
    """A port on 127.0.0.1 that a socket listens on and never answers: no one else can listen there, and a
    connection to it is accepted by the kernel and then left waiting."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def raw_request(url: str, data: bytes, timeout: float = 5) -> tuple[int, bytes]:
    """Sends bytes as they are and returns the status and body of the answer (0 and b"" if none)."""
    with socket.create_connection(address_of(url), timeout=timeout) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read()


def assert_error(status: int, body: bytes, expected_status: int) -> dict[str, Any]:
    """Every error is an ErrorDescription in JSON, never with a stack trace."""
    assert status == expected_status
    description = json.loads(body)
    assert description["status"] == expected_status
    assert description["code"] and description["message"]
    assert description["stack_trace"] is None and description["cause"] is None
    return dict(description)


def poll(condition: Callable[[], bool], timeout: float) -> bool:
    """Whether `condition` holds within `timeout` s, checked every 50 ms."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)  # poll interval, not a wait for the condition
    return True


def rss_mb(pid: int | str = "self") -> float:
    """The resident memory of process `pid` (this one by default), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def assert_answers_quickly(url: str, times: int = 5) -> None:
    """/heartbeat answers every time within a second (wide margin: "working", not a speed claim)."""
    for _ in range(times):
        started = time.monotonic()
        assert requests.get(f"{url}/heartbeat", timeout=5).status_code == 200
        assert time.monotonic() - started < 1.0


def non_reading_client(url: str, request: bytes, times: int) -> socket.socket:
    """A connection that pipelines `request` `times` times and never reads (its receive buffer kept small)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(address_of(url))
    sock.sendall(request * times)
    return sock


def still_connected(sock: socket.socket) -> bool:
    """The client's kernel still sees the connection established (TCP_INFO's first byte is the TCP state)."""
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] == TCP_ESTABLISHED


def read_available(read_end: int) -> bytes:
    """Everything the pipe holds now, without waiting for more."""
    os.set_blocking(read_end, False)
    chunks = []
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(read_end, 65536):
            chunks.append(chunk)
    return b"".join(chunks)


def read_until(read_end: int, text: bytes, timeout: float = 10) -> bytes:
    """What the pipe gives until `text` has come (polled, not waited for blindly)."""
    received, deadline = b"", time.monotonic() + timeout
    while text not in received:
        assert time.monotonic() < deadline, f"{text!r} did not come within {timeout} s: {received[-200:]!r}"
        received += read_available(read_end)
        time.sleep(0.02)  # poll interval
    return received


def metric(url: str, name: str, **labels: str) -> float:
    """The value of one series in the service's /metrics (Prometheus text); 0 when the series is absent."""
    wanted = {f'{key}="{value}"' for key, value in labels.items()}
    for line in requests.get(f"{url}/metrics", timeout=5).text.splitlines():
        series, _, value = line.rpartition(" ")
        metric_name, _, label_text = series.partition("{")
        if metric_name == name and wanted <= set(label_text.rstrip("}").split(",")):
            return float(value)
    return 0


def other_python(version: str) -> str | None:
    """A real interpreter of another version: pyenv's (these machines have 3.9-3.13) or one on PATH.

    pyenv's shims are on PATH even for versions not activated, so each candidate is asked for its version.
    """
    candidates = [str(p) for p in sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python"))]
    candidates.append(shutil.which(f"python{version}") or "")
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def signal_handled(pid: int, signal_number: int) -> bool:
    """Whether process `pid` has installed a handler for `signal_number` (Linux: SigCgt in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal_number - 1) & 1)
    return False


def assert_one_line_failure(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    """A startup failure as the service reports one: exit status 1 and one line holding each of `expected`."""
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 1
    assert len(lines) == 1, lines
    for text in expected:
        assert text in lines[0]


def samples(url: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """Every sample `name` of the service's /metrics, by its labels."""
    return samples_in(requests.get(f"{url}/metrics", timeout=5).text, name)


def samples_in(text: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {
        frozenset(sample.labels.items()): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def openmetrics_families(text: str) -> list[Metric]:
    """The families of a /metrics answer in OpenMetrics (prometheus_client's parser of it has no type hints)."""
    families: list[Metric] = list(openmetrics_parser.text_string_to_metric_families(text))  # type: ignore[no-untyped-call]
    return families


def answers(**labels: str) -> frozenset[tuple[str, str]]:
    return frozenset(labels.items())


@pytest.fixture
def many_descriptors() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


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


def need(tool: str) -> str:
    """The path of one of Debian's prometheus package's programs. README's test command runs on a machine that may
    not have them: skipped there, saying how to get them; CI (.ci/run installs them, CI=true) never skips."""
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} (Debian's prometheus package) is not installed: apt-get install prometheus"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def promtool_problems(text: str) -> str:
    """What `promtool check metrics` (Debian's prometheus package, installed by .ci/run) says of `text`."""
    result = subprocess.run(
        [need("promtool"), "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    return (result.stdout + result.stderr).strip()


@pytest.fixture
def port() -> int:
    """A free port on 127.0.0.1, for one test."""
    return free_port()


@pytest.fixture
def stalled_sockets() -> Iterator[list[socket.socket]]:
    """Connections a test leaves stalled, closed after it."""
    sockets: list[socket.socket] = []
    yield sockets
    for sock in sockets:
        sock.close()


@pytest.fixture
def unread_pipe() -> Iterator[tuple[int, int]]:
    """A real pipe whose read end stays open and unread (until a test reads it)."""
    read_end, write_end = os.pipe()
    yield read_end, write_end
    for end in (read_end, write_end):
        with contextlib.suppress(OSError):
            os.close(end)


def imported_names(tree: ast.Module) -> list[str]:
    """The module-level imports, in order, by the full name of what they import from."""
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append(node.module or "")
    return names


def schemathesis_run(document_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """schemathesis, all checks, 100 examples an operation, against the OpenAPI document at `document_url` and the
    server that serves it."""
    return subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", document_url, "--checks", "all", "--max-examples", "100"],
        capture_output=True, text=True, timeout=300, cwd=cwd,
    )  # fmt: skip
