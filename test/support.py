"""Helpers the tests share: free ports, readiness polling, the real process in a subprocess."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.refer import Descriptor
from pip_services3_container.config import ContainerConfigReader

from HelloWorldProcess import CONFIG_PATH
from process.Parameters import PARAMETERS

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
    names = {parameter.name for parameter in PARAMETERS}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(overrides)
    return env


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
