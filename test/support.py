"""Helpers the tests share: free ports, readiness polling, the real process in a subprocess."""

import ast
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import bottle
import requests
from microservice_chassis.http.endpoint import GranianHttpEndpoint
from pip_services3_commons.commands import Command, CommandSet, ICommandable
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.convert import TypeCode
from pip_services3_commons.refer import Descriptor, IReferences, References
from pip_services3_commons.validate import ObjectSchema
from pip_services3_container.config import ContainerConfigReader
from pip_services3_rpc.services import CommandableHttpService, RestService

from bench.ports import free_port  # noqa: F401 (the one free_port, shared with the benchmark; the tests import it from here)
from HelloWorldController import HelloWorldController
from HelloWorldProcess import CONFIG_PATH, HelloWorldProcess
from HelloWorldServiceFactory import HelloWorldServiceFactory

ROOT = Path(__file__).resolve().parent.parent
RUN_PY = ROOT / "run.py"
# What GET /probe/big answers: 2 MB.
BIG_ANSWER = b"x" * 2_000_000
ENDPOINT_DESCRIPTOR = Descriptor("pip-services", "endpoint", "http", "default", "1.0")


def configured_descriptors() -> list[Descriptor]:
    """The descriptors of config.yml as the container reads it (YAML after mustache parameterization)."""
    return [c.descriptor for c in ContainerConfigReader.read_from_file(None, str(CONFIG_PATH), ConfigParams())]


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


class RunningProcess:
    """`python run.py` in a subprocess, its output in files so that nothing blocks on a full pipe."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.stdout_path = cwd / "stdout.txt"
        self.stderr_path = cwd / "stderr.txt"
        with open(self.stdout_path, "w") as out, open(self.stderr_path, "w") as err:
            self.popen = subprocess.Popen(
                [sys.executable, str(RUN_PY), *args], cwd=cwd, env=env, stdout=out, stderr=err
            )

    @property
    def output(self) -> str:
        return self.stdout_path.read_text() + self.stderr_path.read_text()

    def __enter__(self) -> "RunningProcess":
        return self

    def __exit__(self, *_: object) -> None:
        """Reaps the process even when a test failed while it was running."""
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()

    def stop(self, timeout: float = 5.0, signal_number: int = signal.SIGTERM) -> int:
        """SIGTERM (as Kubernetes or systemd send it) or SIGINT (Ctrl-C); returns the exit code."""
        self.popen.send_signal(signal_number)
        return self.popen.wait(timeout=timeout)


def process_env(**overrides: str) -> dict[str, str]:
    """The parent's environment without this service's parameters, so a developer's shell cannot leak in."""
    names = {parameter.name for parameter in HelloWorldProcess.parameters}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(overrides)
    return env


class ProbeService(RestService):
    """A test service using every part of the endpoint interface a Pip.Services service may use."""

    def __init__(self) -> None:
        super().__init__()
        self._base_route = "probe"
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)
        self.intercepted = 0

    def register(self) -> None:
        self.register_route("GET", "/slow", None, self._slow)
        self.register_route("GET", "/boom", None, self._boom)
        self.register_route("GET", "/big", None, lambda: BIG_ANSWER)  # streamed: larger than a small answer
        schema = ObjectSchema().with_required_property(
            "body", ObjectSchema().with_required_property("n", TypeCode.Integer)
        )
        self.register_route("POST", "/echo", schema, lambda: self.send_result(bottle.request.json))
        self.register_route_with_auth("GET", "/secret", None, self._deny_without_token, lambda: self.send_result("ok"))
        self.register_interceptor("/echo", self._count)  # RestService prefixes the base route

    def _slow(self) -> str:
        self.entered.release()
        self.release.wait(10)
        return self.send_result("done")

    def _boom(self) -> str:
        raise RuntimeError("secret detail /etc/passwd")

    def _count(self) -> None:
        self.intercepted += 1

    @staticmethod
    def _deny_without_token() -> None:
        if bottle.request.headers.get("Authorization") != "Bearer t":
            raise bottle.HTTPError(401, "no token", **{"WWW-Authenticate": 'Bearer realm="probe"'})


class Adder(ICommandable):
    def get_command_set(self) -> CommandSet:
        commands = CommandSet()
        schema = (
            ObjectSchema().with_required_property("a", TypeCode.Integer).with_required_property("b", TypeCode.Integer)
        )
        commands.add_command(Command("add", schema, lambda correlation_id, args: args.get("a") + args.get("b")))
        return commands


class AdderService(CommandableHttpService):
    def __init__(self) -> None:
        super().__init__("adder")
        self._dependency_resolver.put("controller", Descriptor("test", "adder", "*", "*", "1.0"))


class EndpointUnderTest(NamedTuple):
    """An opened GranianHttpEndpoint, the probe service registered on it, and its base URL."""

    endpoint: GranianHttpEndpoint
    probe: ProbeService
    url: str


Start = Callable[..., EndpointUnderTest]


# Requests whose body never comes whole: chunked and by Content-Length, to a GET and to a POST route.
STALLED_BODIES = [
    b"GET /heartbeat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
    b"GET /heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc",
    b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n10\r\n{",
    b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
]
TCP_ESTABLISHED = 1


def address_of(url: str) -> tuple[str, int]:
    """The host and port of a base URL such as http://127.0.0.1:8080."""
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


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


def assert_error(status: int, body: bytes, expected_status: int) -> dict:
    """Every error is an ErrorDescription in JSON, never with a stack trace."""
    assert status == expected_status
    description = json.loads(body)
    assert description["status"] == expected_status
    assert description["code"] and description["message"]
    assert description["stack_trace"] is None and description["cause"] is None
    return description


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


@contextmanager
def service_writing_to(stdout: int, tmp_path: Path, port: int, **env: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """run.py with its stdout the descriptor `stdout` (stderr to a file); yields it once /heartbeat answers."""
    environment = process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), **env)
    with open(tmp_path / "stderr.txt", "w") as stderr:
        popen = subprocess.Popen(
            [sys.executable, str(RUN_PY)], cwd=tmp_path, env=environment, stdout=stdout, stderr=stderr
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{url}/heartbeat")
        yield popen, url
    finally:
        if popen.poll() is None:
            popen.kill()
        popen.wait()


def heartbeats(session: requests.Session, url: str, ids: range, timeout: float = 5) -> None:
    """One heartbeat per id, each logged at INFO (ACCESS_LOG_LEVEL=info) under its correlation id `n<id>`."""
    for number in ids:
        assert session.get(f"{url}/heartbeat", params={"correlation_id": f"n{number}"}, timeout=timeout).ok


def output_when_the_reader_comes_back(
    unread_pipe: tuple[int, int], tmp_path: Path, port: int, last: bytes, **env: str
) -> bytes:
    """All that run.py wrote to the pipe: 3,000 heartbeats logged while nobody reads it, 10 more once its reader
    has come back (the last of them logged with `last` in its line), then its stop by SIGTERM (exit 0)."""
    read_end, write_end = unread_pipe
    with service_writing_to(write_end, tmp_path, port, ACCESS_LOG_LEVEL="info", **env) as (popen, url):
        os.close(write_end)
        with requests.Session() as session:
            heartbeats(session, url, range(3000))
            output = read_available(read_end)  # the reader comes back
            heartbeats(session, url, range(3000, 3010))
            output += read_until(read_end, last)
        popen.send_signal(signal.SIGTERM)
        assert popen.wait(timeout=15) == 0
        output += read_until(read_end, b"Container hello-world stopped")
    return output


def imported_project_modules(module_file: str) -> set[str]:
    """The modules of this project (top-level .py files) that `module_file` imports."""
    tree = ast.parse(Path(module_file).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return imported & {path.stem for path in ROOT.glob("*.py")}


def imports_no_component_class(module_file: str) -> bool:
    """Components meet through descriptors and interfaces: of the top-level modules, only I* interfaces and the rules
    of a name may be imported (the chassis is a package)."""
    return all(m.startswith("I") or m == "NameRules" for m in imported_project_modules(module_file))


def metric(url: str, name: str, **labels: str) -> float:
    """The value of one series in the service's /metrics (Prometheus text); 0 when the series is absent."""
    wanted = {f'{key}="{value}"' for key, value in labels.items()}
    for line in requests.get(f"{url}/metrics", timeout=5).text.splitlines():
        series, _, value = line.rpartition(" ")
        metric_name, _, label_text = series.partition("{")
        if metric_name == name and wanted <= set(label_text.rstrip("}").split(",")):
            return float(value)
    return 0


@contextmanager
def serving(endpoint_type: type, port: int, *services: tuple[Descriptor, object], probe: str) -> Iterator[str]:
    """The services wired to a real controller (default name "World") and a real shared endpoint of
    `endpoint_type`, as the container wires them; yields the base URL once `probe` (a path) answers."""
    controller = HelloWorldController()
    controller.configure(ConfigParams.from_tuples("default_name", "World"))
    endpoint = endpoint_type()
    endpoint.configure(
        ConfigParams.from_tuples("connection.protocol", "http", "connection.host", "127.0.0.1", "connection.port", port)
    )
    pairs = [HelloWorldServiceFactory.ControllerDescriptor, controller, ENDPOINT_DESCRIPTOR, endpoint]
    references = References.from_tuples(*pairs, *(item for pair in services for item in pair))
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


def assert_one_line_failure(result: subprocess.CompletedProcess, *expected: str) -> None:
    """A startup failure as the service reports one: exit status 1 and one line holding each of `expected`."""
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 1
    assert len(lines) == 1, lines
    for text in expected:
        assert text in lines[0]


class ObservedProcess(HelloWorldProcess):
    """The process, keeping the references the container hands itself when it opens (Container.set_references,
    the container's public hook): the components it built, as a component of it would see them."""

    references: IReferences | None = None

    def set_references(self, references: IReferences) -> None:
        super().set_references(references)
        self.references = references


@contextmanager
def opened_process(port: int) -> Iterator[ObservedProcess]:
    """The container as run.py builds it from config.yml, open and serving on 127.0.0.1:`port` (DEFAULT_NAME
    Tester), closed afterwards."""
    process = ObservedProcess()
    params = ConfigParams.from_tuples("HTTP_HOST", "127.0.0.1", "HTTP_PORT", port, "DEFAULT_NAME", "Tester")
    process.read_config_from_file(None, str(CONFIG_PATH), params)
    process.open(None)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/heartbeat")
        yield process
    finally:
        process.close(None)
