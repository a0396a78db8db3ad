"""Shared fixtures: free ports, readiness polling, real components and the real process."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.refer import Descriptor, References
from pip_services3_container.config import ContainerConfigReader
from pip_services3_rpc.services import HttpEndpoint

from HelloWorldController import HelloWorldController
from HelloWorldHttpEndpoint import HelloWorldHttpEndpoint
from HelloWorldProcess import CONFIG_PATH
from HelloWorldRestService import HelloWorldRestService
from HelloWorldServiceFactory import HelloWorldServiceFactory

ROOT = Path(__file__).resolve().parent.parent
RUN_PY = ROOT / "run.py"
ENDPOINT_DESCRIPTOR = Descriptor("pip-services", "endpoint", "http", "default", "1.0")


def configured_descriptors() -> list[Descriptor]:
    """The descriptors of config.yml as the container reads it (YAML after mustache parameterization)."""
    return [c.descriptor for c in ContainerConfigReader.read_from_file(None, str(CONFIG_PATH), ConfigParams())]


def free_port() -> int:
    """A port nobody listens on now: the kernel picks it when binding port 0."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture(params=[HelloWorldHttpEndpoint, HttpEndpoint], ids=["our-endpoint", "stock-endpoint"])
def service_url(port: int, request: pytest.FixtureRequest) -> Iterator[str]:
    """The REST service wired to a real controller and a real shared endpoint, as the container wires them:
    ours (config.yml's) and the stock Pip.Services one, since the service must work on either."""
    controller = HelloWorldController()
    controller.configure(ConfigParams.from_tuples("default_name", "World"))
    endpoint = request.param()
    endpoint.configure(
        ConfigParams.from_tuples("connection.protocol", "http", "connection.host", "127.0.0.1", "connection.port", port)
    )
    service = HelloWorldRestService()
    references = References.from_tuples(
        HelloWorldServiceFactory.ControllerDescriptor,
        controller,
        ENDPOINT_DESCRIPTOR,
        endpoint,
        HelloWorldServiceFactory.HttpServiceDescriptor,
        service,
    )
    endpoint.set_references(references)
    service.set_references(references)
    endpoint.open(None)
    service.open(None)
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(f"{url}/hello_world/greeting")
    yield url
    service.close(None)
    endpoint.close(None)


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

    def stop(self, timeout: float = 5.0, signal_number: int = signal.SIGTERM) -> int:
        """SIGTERM (as Kubernetes or systemd send it) or SIGINT (Ctrl-C); returns the exit code."""
        self.popen.send_signal(signal_number)
        return self.popen.wait(timeout=timeout)


def process_env(**overrides: str) -> dict[str, str]:
    """The parent's environment without this service's parameters, so a developer's shell cannot leak in."""
    env = {k: v for k, v in os.environ.items() if k not in ("HTTP_HOST", "HTTP_PORT", "LOG_LEVEL", "DEFAULT_NAME")}
    env.update(overrides)
    return env


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
