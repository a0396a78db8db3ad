"""`python run.py` failing to start: one line naming the cause, exit status 1, nothing left running."""

import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from microservice_chassis.process.python_version import unsupported_python
from microservice_chassis.testing import assert_one_line_failure, listening_port, other_python

from support import RUN_PY, process_env

RunToExit = Callable[..., subprocess.CompletedProcess[str]]


def test_missing_config_exits_1_with_one_line(run_to_exit: RunToExit) -> None:
    assert_one_line_failure(run_to_exit("-c", "missing.yml"), "missing.yml", "not found")


def test_malformed_yaml_exits_1_with_one_line(run_to_exit: RunToExit, tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text("- descriptor: x\n  connection: [1,\n")
    assert_one_line_failure(run_to_exit("-c", "bad.yml"), "bad.yml")


def test_unknown_descriptor_exits_1_with_one_line(run_to_exit: RunToExit, tmp_path: Path) -> None:
    (tmp_path / "unknown.yml").write_text('- descriptor: "acme:widget:default:default:1.0"\n')
    assert_one_line_failure(run_to_exit("-c", "unknown.yml"), "acme:widget:default:default:1.0")


def test_empty_config_exits_1_with_one_line(run_to_exit: RunToExit, tmp_path: Path) -> None:
    (tmp_path / "empty.yml").write_text("# nothing here\n")
    assert_one_line_failure(run_to_exit("-c", "empty.yml"), "empty.yml", "no components")


def test_port_in_use_exits_1_within_2_s_naming_host_and_port(run_to_exit: RunToExit) -> None:
    with listening_port() as port:
        started = time.monotonic()
        result = run_to_exit(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port))
        assert time.monotonic() - started < 2
    assert_one_line_failure(result, f"127.0.0.1:{port}", "in use")
    assert "started" not in result.stdout


def test_unknown_host_exits_1_within_2_s(run_to_exit: RunToExit) -> None:
    started = time.monotonic()
    result = run_to_exit(HTTP_HOST="no-such-host.invalid", HTTP_PORT="8080")
    assert time.monotonic() - started < 2
    assert_one_line_failure(result, "no-such-host.invalid:8080")
    assert "started" not in result.stdout


def test_windows_is_refused_in_one_line_naming_wsl(tmp_path: Path) -> None:
    """No Windows machine here: run.py where the platform says win32 and the signal module has no SIGHUP."""
    windows = (
        "import runpy, signal, sys; del signal.SIGHUP; sys.platform = 'win32'; sys.argv = ['run.py']; "
        f"sys.path.insert(0, {str(RUN_PY.parent)!r}); runpy.run_path({str(RUN_PY)!r}, run_name='__main__')"
    )
    result = subprocess.run([sys.executable, "-c", windows], cwd=tmp_path, capture_output=True, text=True, timeout=10)
    assert_one_line_failure(result, "run.py: Windows", "WSL")
    assert unsupported_python((3, 12), platform="linux") is None


def test_missing_dependencies_are_named_with_the_command_that_installs_them(run_to_exit: RunToExit) -> None:
    """The tutorial's own `python run.py`, with a supported Python that has none of the requirements."""
    python = next(filter(None, map(other_python, ["3.12", "3.11"])), None)
    if python is None or subprocess.run([python, "-c", "import pip_services3_container"]).returncode == 0:
        pytest.skip("no Python 3.11 or 3.12 without the requirements on this machine")
    result = run_to_exit(python=python)
    assert_one_line_failure(result, "No module named", "pip install -r requirements.txt")


def test_an_address_space_limit_too_low_to_run_in_is_one_line(tmp_path: Path, port: int) -> None:
    """Under `ulimit -v` 600 MiB the runtime's threads failed at random: an abort, or 11,756 allocator lines."""
    limit = 600 * 2**20
    result = subprocess.run(
        [sys.executable, str(RUN_PY)], cwd=tmp_path, env=process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port)),
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)),
        capture_output=True, text=True, timeout=10,
    )  # fmt: skip
    assert_one_line_failure(result, "run.py: the address-space limit (ulimit -v) is 600 MiB", "at least 1024 MiB")
