"""`run.py -c FILE` with a config file that is not one, too large, or expanding without bound: one line naming the
path (and the limit), exit 1, within 5 s and 100 MB; a config that serves nothing starts with a warning.

Each run has its address space capped, so that a regression fails fast instead of filling the machine, and its
peak RSS is read from the kernel's accounting of that child (os.wait4), not of every child the suite has had.
"""

import ctypes
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from microservice_chassis.process.config_limits import MAX_CONFIG_BYTES, MAX_NODES
from microservice_chassis.testing import assert_one_line_failure

from support import RUN_PY, RunningProcess, process_env

SECONDS = 5.0  # the longest a refusal may take
RSS_BYTES = 100 * 1024 * 1024  # the most it may use
ADDRESS_SPACE = 2 * 1024**3  # the cap: run.py's threads and libraries reserve about 1 GB of it
CONTROLLER = '- descriptor: "hello-world:controller:default:default:1.0"\n'
# prctl(2) and capabilities(7): dropped from the bounding set, root's file access obeys the file's mode after exec.
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


@dataclass(frozen=True)
class Run:
    result: subprocess.CompletedProcess[str]
    seconds: float
    rss_bytes: int


def cap_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def as_root_without_file_override() -> None:
    """Root that reads only what a file's mode lets it (a child of root: its capabilities to override file modes
    dropped from its bounding set, which exec then gives it), its address space capped."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0):
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")
    cap_address_space()


def run_bounded(cwd: Path, *args: str, preexec: Callable[[], None] = cap_address_space) -> Run:
    """run.py `args` in `cwd`, `preexec` run in the child before (capping its address space); killed after
    SECONDS (the test then fails)."""
    out_path, err_path = cwd / "stdout.txt", cwd / "stderr.txt"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        started = time.monotonic()
        popen = subprocess.Popen(
            [sys.executable, str(RUN_PY), *args],
            cwd=cwd, env=process_env(), stdout=out, stderr=err, preexec_fn=preexec,
        )  # fmt: skip
    while not (reaped := os.wait4(popen.pid, os.WNOHANG))[0]:
        if time.monotonic() - started > SECONDS:
            popen.kill()
            reaped = os.wait4(popen.pid, 0)
            break
        time.sleep(0.02)  # poll interval
    seconds = time.monotonic() - started
    popen.returncode = os.waitstatus_to_exitcode(reaped[1])  # reaped here: Popen must not wait for it again
    result = subprocess.CompletedProcess(popen.args, popen.returncode, out_path.read_text(), err_path.read_text())
    return Run(result, seconds, reaped[2].ru_maxrss * 1024)


def assert_refused(run: Run, *expected: str) -> None:
    assert run.seconds < SECONDS, f"still running after {SECONDS} s: {run.result}"
    assert run.rss_bytes < RSS_BYTES, f"{run.rss_bytes:,} bytes of RSS"
    assert_one_line_failure(run.result, *expected)


def laughs(levels: int) -> str:
    """A billion-laughs entry inside a component: `levels` levels of 9 aliases each to the level below."""
    lines = [CONTROLLER, '  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n']
    lines += [f"  l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, levels)]
    return "".join(lines)


@pytest.mark.parametrize("levels", [7, 9])
def test_a_billion_laughs_is_refused_naming_the_limit(tmp_path: Path, levels: int) -> None:
    (tmp_path / "laughs.yml").write_text(laughs(levels))
    assert_refused(run_bounded(tmp_path, "-c", "laughs.yml"), "laughs.yml", f"{MAX_NODES:,} nodes", "limit")


@pytest.mark.parametrize(
    "content",
    [CONTROLLER + "  default_name: " + "x" * 1_000_000 + "\n", "#" * 10_000_000 + "\n" + CONTROLLER],
    ids=["1-MB-value", "10-MB-of-comments"],
)
def test_a_file_over_the_size_limit_is_refused_naming_it(tmp_path: Path, content: str) -> None:
    (tmp_path / "large.yml").write_text(content)
    assert_refused(run_bounded(tmp_path, "-c", "large.yml"), "large.yml", f"{MAX_CONFIG_BYTES:,} bytes", "limit")


@pytest.mark.parametrize("path", [".", "/dev/zero", "/dev/null", "/dev/urandom"])
def test_what_is_not_a_regular_file_is_refused_naming_what_it_is(tmp_path: Path, path: str) -> None:
    kind = "a directory" if path == "." else "a character device"
    assert_refused(run_bounded(tmp_path, "-c", path), path, "not a regular file", kind)


def test_a_fifo_without_a_writer_is_refused_at_once(tmp_path: Path) -> None:
    """Opened without blocking: a FIFO nobody writes to cannot hold the start, which a stop signal could not end."""
    os.mkfifo(tmp_path / "fifo.yml")
    assert_refused(run_bounded(tmp_path, "-c", "fifo.yml"), "fifo.yml", "not a regular file", "a FIFO")


def test_a_file_that_is_not_utf8_is_refused_naming_the_byte(tmp_path: Path) -> None:
    (tmp_path / "latin1.yml").write_bytes(CONTROLLER.encode() + "  default_name: Zoë\n".encode("latin-1"))
    assert_refused(run_bounded(tmp_path, "-c", "latin1.yml"), "latin1.yml", "not UTF-8", "byte 77")


def test_an_unreadable_file_is_refused_as_not_readable(tmp_path: Path) -> None:
    """Mode 000 stops anyone but root, which reads through it by its capabilities: as root, the service runs without
    them (skipped where root may not drop them)."""
    locked = tmp_path / "locked.yml"
    locked.write_text(CONTROLLER)
    locked.chmod(0)
    preexec = as_root_without_file_override if os.geteuid() == 0 else cap_address_space
    try:
        run = run_bounded(tmp_path, "-c", "locked.yml", preexec=preexec)
    except subprocess.SubprocessError as error:  # raised in the child by prctl: no CAP_SETPCAP here
        pytest.skip(f"root cannot drop its file capabilities here: {error}")
    assert_refused(run, "locked.yml", "not readable", "Permission denied")


def test_a_component_given_twice_is_refused_naming_it(tmp_path: Path) -> None:
    (tmp_path / "twice.yml").write_text(CONTROLLER + "  default_name: A\n" + CONTROLLER)
    assert_refused(
        run_bounded(tmp_path, "-c", "twice.yml"), "twice.yml", "hello-world:controller:default:default:1.0 twice"
    )


def test_a_config_that_serves_nothing_starts_with_one_warning(tmp_path: Path) -> None:
    (tmp_path / "info.yml").write_text('- descriptor: "pip-services:context-info:default:default:1.0"\n')
    with RunningProcess(["-c", "info.yml"], process_env(), tmp_path) as process:
        deadline = time.monotonic() + SECONDS
        while "WARN" not in process.output and process.popen.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # poll interval
        warnings = [line for line in process.output.splitlines() if "WARN" in line]
        assert process.stop(signal_number=signal.SIGTERM) == 0
    assert len(warnings) == 1, process.output
    assert "info.yml declares no service" in warnings[0]
