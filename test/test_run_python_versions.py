"""Which Pythons `python run.py`, README's commands and the test suite accept, refuse or warn about."""

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from microservice_chassis.process.python_version import unsupported_python, untested_python
from microservice_chassis.testing import assert_one_line_failure, other_python, wait_until_serving

from support import ROOT, RUN_PY, process_env

RunToExit = Callable[..., subprocess.CompletedProcess[str]]


@pytest.mark.parametrize("version", ["3.10", "3.9"])
def test_an_old_python_is_refused_with_one_line_saying_what_works(run_to_exit: RunToExit, version: str) -> None:
    python = other_python(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    result = run_to_exit(python=python)
    # No Python older than 3.11 can install the chassis (its requires-python), so run.py cannot import it there.
    assert_one_line_failure(result, "No module named 'microservice_chassis'", "pip install -r requirements.txt")


# run.py on a Python newer than any tested: sys.version_info says 3.16, for run.py and for everything it imports.
FUTURE_PYTHON = """
import collections, runpy, sys
sys.version_info = collections.namedtuple("version_info", "major minor micro releaselevel serial")(3, 16, 0, "alpha", 1)
sys.argv = ["run.py"]
sys.path.insert(0, {root!r})
runpy.run_path({run_py!r}, run_name="__main__")
"""


def test_a_python_newer_than_the_tested_ones_starts_with_a_one_line_warning(tmp_path: Path, port: int) -> None:
    script = FUTURE_PYTHON.format(root=str(ROOT), run_py=str(RUN_PY))
    with open(tmp_path / "out", "w") as out, open(tmp_path / "err", "w") as err:
        popen = subprocess.Popen(
            [sys.executable, "-c", script], cwd=tmp_path, stdout=out, stderr=err,
            env=process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port)),
        )  # fmt: skip
    try:
        assert wait_until_serving(f"http://127.0.0.1:{port}/hello_world/greeting").json() == "Hello, World!"
    finally:
        popen.send_signal(signal.SIGTERM)
        assert popen.wait(timeout=10) == 0
    warning = (tmp_path / "err").read_text().splitlines()[0]
    assert warning == (
        "run.py: warning: Python 3.16 is newer than the versions this service is tested on (3.11 to 3.15); "
        "starting anyway"
    )


@pytest.mark.parametrize("version", [(3, 11), (3, 12), (3, 13), (3, 14), (3, 15)], ids=str)
def test_every_supported_python_is_let_run_without_a_warning(version: tuple[int, int]) -> None:
    assert unsupported_python(version, platform="linux") is None
    assert untested_python(version) is None


def readme_command(marker: str) -> str:
    """The command of README's code block that follows the line containing `marker`."""
    text = (ROOT / "README.md").read_text()
    return text.split(marker, 1)[1].split("```sh\n", 1)[1].split("\n", 1)[0]


@pytest.mark.parametrize("version", ["3.10", "3.9"])
@pytest.mark.parametrize("marker", ["Install and run the service", "<!-- test-command -->"])
def test_readme_commands_refuse_an_unsupported_python_before_installing(
    tmp_path: Path, version: str, marker: str
) -> None:
    python = other_python(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    for name in ("chassis", "requirements.txt", "requirements-dev.txt", "run.py"):  # a checkout, run.py's part
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, tmp_path / name)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python3").symlink_to(python)
    env = process_env(PATH=f"{tmp_path / 'bin'}:/usr/bin:/bin")
    started = time.monotonic()
    result = subprocess.run(
        ["bash", "-c", readme_command(marker)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert time.monotonic() - started < 5
    assert result.returncode != 0
    assert (result.stdout + result.stderr).strip().splitlines() == [result.stderr.strip()]
    assert "too old" in result.stderr and "3.11 to 3.15" in result.stderr
    assert not (tmp_path / ".venv").exists()


def test_the_test_suite_refuses_an_old_python_with_one_line() -> None:
    """conftest.py on Python 3.10, where pytest 9 would need backports this venv lacks: it refuses before it
    imports pytest or the stack."""
    python = other_python("3.10")
    if python is None:
        pytest.skip("no Python 3.10 on this machine")
    result = subprocess.run(
        [python, "-c", "import runpy; runpy.run_path('test/conftest.py')"],
        cwd=ROOT,
        env=process_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_one_line_failure(result, "No module named 'microservice_chassis'", "pip install -r requirements-dev.txt")
