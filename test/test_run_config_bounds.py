"""`run.py -c FILE` with a config file that is not one, too large, or expanding without bound: one line naming the
path (and the limit), exit 1, within 5 s and 100 MB; a config that serves nothing starts with a warning.

Each run has its address space capped, so that a regression fails fast instead of filling the machine, and its
peak RSS is read from the kernel's accounting of that child (os.wait4), not of every child the suite has had.
"""

import os
import signal
import subprocess
import sys
import time
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


@dataclass(frozen=True)
class Run:
    result: subprocess.CompletedProcess[str]
    seconds: float
    rss_bytes: int


# A child's peak RSS counts what it had before exec: a fork of this pytest process, large late in a full run, would
# count pytest's own pages. So run.py is the fork of a small launcher (a fresh interpreter), which caps its address
# space (and, given "drop-dac", drops root's capabilities to override file modes: prctl(2) PR_CAPBSET_DROP of
# CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so that root's file access obeys the file's mode after exec), kills it
# after SECONDS, and writes its exit code and peak RSS (os.wait4) to a file.
LAUNCHER = """
import ctypes, os, resource, sys, time
report, drop_dac, limit, seconds = sys.argv[1], sys.argv[2] == "drop-dac", int(sys.argv[3]), float(sys.argv[4])
pid = os.fork()
if pid == 0:
    if drop_dac:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):
            if libc.prctl(24, capability, 0, 0, 0):
                os._exit(125)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.execv(sys.argv[5], sys.argv[5:])
started = time.monotonic()
while not (reaped := os.wait4(pid, os.WNOHANG))[0]:
    if time.monotonic() - started > seconds:
        os.kill(pid, 9)
        reaped = os.wait4(pid, 0)
        break
    time.sleep(0.02)
with open(report, "w") as out:
    out.write(f"{os.waitstatus_to_exitcode(reaped[1])} {reaped[2].ru_maxrss * 1024}")
"""
DROPPED_NOTHING = 125  # the launcher's child could not drop the capabilities


def run_bounded(cwd: Path, *args: str, drop_dac: bool = False) -> Run:
    """run.py `args` in `cwd` through the launcher, its address space capped; killed after SECONDS (the test then
    fails)."""
    report = cwd / "launcher-report.txt"
    mode = "drop-dac" if drop_dac else "keep"
    launcher = [sys.executable, "-c", LAUNCHER, str(report), mode, str(ADDRESS_SPACE), str(SECONDS)]
    started = time.monotonic()
    completed = subprocess.run(
        [*launcher, sys.executable, str(RUN_PY), *args],
        cwd=cwd, env=process_env(), capture_output=True, text=True, timeout=SECONDS + 10,
    )  # fmt: skip
    seconds = time.monotonic() - started
    code, rss = (int(field) for field in report.read_text().split())
    result = subprocess.CompletedProcess(completed.args, code, completed.stdout, completed.stderr)
    return Run(result, seconds, rss)


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
    run = run_bounded(tmp_path, "-c", "locked.yml", drop_dac=os.geteuid() == 0)
    if run.result.returncode == DROPPED_NOTHING:
        pytest.skip("root cannot drop its file capabilities here (no CAP_SETPCAP)")
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
