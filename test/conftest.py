"""Shared fixtures: real components and the real process, on free ports."""

import subprocess
import sys

try:
    from microservice_chassis.process import python_version
except ModuleNotFoundError as missing:  # a Python without requirements-dev.txt installed (one older than 3.11 cannot)
    sys.exit(f"conftest.py: {missing}: make a venv with Python 3.11+, .venv/bin/pip install -r requirements-dev.txt")

# Before the stack is imported: on an unsupported Python it fails with a long traceback.
if refusal := python_version.unsupported_python(requirements="requirements-dev.txt"):
    sys.exit(refusal)

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import contextlib
import os
import signal
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from microservice_chassis.build import ChassisFactory
from microservice_chassis.http.endpoint import GranianHttpEndpoint
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.refer import Descriptor, References
from pip_services3_components.log import ConsoleLogger
from pip_services3_rpc.services import HeartbeatRestService, HttpEndpoint

from HelloWorldRestService import HelloWorldRestService
from HelloWorldServiceFactory import HelloWorldServiceFactory
from support import (
    RUN_PY,
    Adder,
    AdderService,
    EndpointUnderTest,
    ProbeService,
    RunningProcess,
    Start,
    free_port,
    process_env,
    serving,
    wait_until_serving,
)

# A suite started under nohup or as a background job inherits SIGHUP or SIGINT ignored, and so would every
# `run.py` it starts, which keeps them ignored by design: the stop-signal tests would then wait in vain and leave
# services running. Caught and dropped here instead, they stay harmless to pytest and reach the services at their
# default (exec resets a handled signal, not an ignored one).
for _stop_signal in (signal.SIGHUP, signal.SIGINT):
    if signal.getsignal(_stop_signal) is signal.SIG_IGN:
        signal.signal(_stop_signal, lambda _number, _frame: None)


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture(scope="module", params=[GranianHttpEndpoint, HttpEndpoint], ids=["our-endpoint", "stock-endpoint"])
def service_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The REST service wired to a real controller and a real shared endpoint, as the container wires them:
    ours (config.yml's) and the stock Pip.Services one, since the service must work on either. One per module:
    the tests only read from it, and the stock endpoint takes half a second to close."""
    service = (HelloWorldServiceFactory.HttpServiceDescriptor, HelloWorldRestService())
    with serving(request.param, free_port(), service, probe="/hello_world/greeting") as url:
        yield url


@pytest.fixture
def start_process(tmp_path: Path, port: int) -> Iterator[Callable[..., tuple[RunningProcess, str]]]:
    """Starts run.py from a foreign working directory on a free port; returns it with its base URL once it serves."""
    started: list[RunningProcess] = []

    def start(*args: str, **env: str) -> tuple[RunningProcess, str]:
        process = RunningProcess(list(args), process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), **env), tmp_path)
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{url}/heartbeat")
        return process, url

    yield start
    for process in started:
        if process.popen.poll() is None:
            process.popen.kill()
            process.popen.wait()


@pytest.fixture
def run_to_exit(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess]:
    """Runs run.py from a foreign working directory until it exits by itself (a startup failure)."""

    def run(*args: str, python: str = sys.executable, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [python, str(RUN_PY), *args],
            cwd=tmp_path,
            env=process_env(**env),
            capture_output=True,
            text=True,
            timeout=10,
        )

    return run


@pytest.fixture
def start_endpoint() -> Iterator[Start]:
    """Opens our endpoint with the probe, adder and heartbeat services on a free port; closes it afterwards."""
    opened: list[tuple[GranianHttpEndpoint, list]] = []

    def start(
        *config: object, port: int | None = None, logger: ConsoleLogger | None = None, components: tuple = ()
    ) -> EndpointUnderTest:
        """`components`: more (descriptor, component) pairs for the references, e.g. counters."""
        port = port or free_port()
        endpoint = GranianHttpEndpoint()
        endpoint.configure(
            ConfigParams.from_tuples("connection.protocol", "http", "connection.host", "127.0.0.1",
                                     "connection.port", port, *config)
        )  # fmt: skip
        probe, adder, heartbeat = ProbeService(), AdderService(), HeartbeatRestService()
        adder.configure(ConfigParams())  # a CommandableHttpService must be configured before it registers
        references = References.from_tuples(
            ChassisFactory.HttpEndpointDescriptor, endpoint,
            Descriptor("test", "probe", "http", "default", "1.0"), probe,
            Descriptor("test", "adder", "default", "default", "1.0"), Adder(),
            Descriptor("test", "service", "http", "default", "1.0"), adder,
            Descriptor("pip-services", "heartbeat-service", "http", "default", "1.0"), heartbeat,
            *((Descriptor("pip-services", "logger", "console", "default", "1.0"), logger) if logger else ()),
            *components,
        )  # fmt: skip
        services = [probe, adder, heartbeat]
        for component in [endpoint, *services]:
            component.set_references(references)
        endpoint.open(None)
        for service in services:
            service.open(None)
        opened.append((endpoint, services))
        return EndpointUnderTest(endpoint, probe, f"http://127.0.0.1:{port}")

    yield start
    for endpoint, services in opened:
        for service in services:
            service.close(None)
        services[0].release.set()
        endpoint.close(None)


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
