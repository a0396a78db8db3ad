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

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from microservice_chassis.http.endpoint import GranianHttpEndpoint
from microservice_chassis.testing import (
    free_port,
    wait_until_serving,
)
from pip_services3_rpc.services import HttpEndpoint

from HelloWorldRestService import HelloWorldRestService
from HelloWorldServiceFactory import HelloWorldServiceFactory
from support import RUN_PY, RunningProcess, process_env, serving

# A suite started under nohup or as a background job inherits SIGHUP or SIGINT ignored, and so would every
# `run.py` it starts, which keeps them ignored by design: the stop-signal tests would then wait in vain and leave
# services running. Caught and dropped here instead, they stay harmless to pytest and reach the services at their
# default (exec resets a handled signal, not an ignored one).
for _stop_signal in (signal.SIGHUP, signal.SIGINT):
    if signal.getsignal(_stop_signal) is signal.SIG_IGN:
        signal.signal(_stop_signal, lambda _number, _frame: None)


# What starts the whole service process (run.py): such a test takes a second or more, so `pytest -m "not slow"`
# leaves it out of an everyday run; CI runs everything.
WHOLE_PROCESS = {"start_process", "run_to_exit", "unread_pipe"}
HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks the service's whole-process tests `slow`: those using a fixture that starts run.py, and the modules
    about the process (test_run_*, test_log_*)."""
    for item in items:
        if item.path.parent != HERE:
            continue
        if WHOLE_PROCESS & set(getattr(item, "fixturenames", ())) or item.path.name.startswith(
            ("test_run_", "test_log_")
        ):
            item.add_marker(pytest.mark.slow)


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
def run_to_exit(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs run.py from a foreign working directory until it exits by itself (a startup failure)."""

    def run(*args: str, python: str = sys.executable, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [python, str(RUN_PY), *args],
            cwd=tmp_path,
            env=process_env(**env),
            capture_output=True,
            text=True,
            timeout=10,
        )

    return run
