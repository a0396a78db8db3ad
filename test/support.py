"""Helpers the service's tests share: the real process in a subprocess, the container in this one, the service on a
real endpoint. What the chassis' tests share too (free ports, polling, raw HTTP) is microservice_chassis.testing."""

import ast
import inspect
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from microservice_chassis import testing
from microservice_chassis.testing import read_available, read_until, wait_until_serving
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.refer import Descriptor, IReferences
from pip_services3_container.config import ContainerConfigReader

from HelloWorldController import HelloWorldController
from HelloWorldProcess import CONFIG_PATH, HelloWorldProcess
from HelloWorldServiceFactory import HelloWorldServiceFactory

ROOT = Path(__file__).resolve().parent.parent
RUN_PY = ROOT / "run.py"


def declared_service_name() -> str:
    """The name HelloWorldProcess declares (the first argument of its `super().__init__(...)`), which the log lines,
    spans and one-line failures show: read from its code, since making the process would declare it to
    microservice_chassis.process.identity for the whole test session, the chassis' tests included."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(HelloWorldProcess.__init__)))
    for node in ast.walk(tree):
        match node:
            case ast.Call(
                func=ast.Attribute(value=ast.Call(func=ast.Name(id="super")), attr="__init__"),
                args=[ast.Constant(value=str() as name), *_],
            ):
                return name
    raise AssertionError("HelloWorldProcess.__init__ passes no literal name to super().__init__(name, ...)")


# The service's name. Its one home is HelloWorldProcess.py; config.yml's context-info repeats it (a test compares
# the two).
SERVICE_NAME = declared_service_name()


def configured_descriptors() -> list[Descriptor]:
    """The descriptors of config.yml as the container reads it (YAML after mustache parameterization)."""
    return [c.descriptor for c in ContainerConfigReader.read_from_file(None, str(CONFIG_PATH), ConfigParams())]


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


@contextmanager
def service_writing_to(
    stdout: int, tmp_path: Path, port: int, **env: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
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
        output += read_until(read_end, f"Container {SERVICE_NAME} stopped".encode())
    return output


def imported_project_modules(module_file: str) -> set[str]:
    """The modules of this project (top-level .py files) that `module_file` imports."""
    tree = ast.parse(Path(module_file).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return {path.stem for path in ROOT.glob("*.py")} & imported


def imports_no_component_class(module_file: str) -> bool:
    """Components meet through descriptors and interfaces: of the top-level modules, only I* interfaces and the rules
    of a name may be imported (the chassis is a package)."""
    return all(m.startswith("I") or m == "NameRules" for m in imported_project_modules(module_file))


@contextmanager
def serving(endpoint_type: type, port: int, *services: tuple[Descriptor, object], probe: str) -> Iterator[str]:
    """The services wired to a real controller (default name "World") and a real shared endpoint of
    `endpoint_type`, as the container wires them; yields the base URL once `probe` (a path) answers."""
    controller = HelloWorldController()
    controller.configure(ConfigParams.from_tuples("default_name", "World"))
    others = (HelloWorldServiceFactory.ControllerDescriptor, controller)
    with testing.serving(endpoint_type, port, *services, probe=probe, others=others) as url:
        yield url


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
