"""`python run.py` and its stop signals: SIGTERM, SIGINT and SIGHUP at any moment, repeated, under load, with
its output gone."""

import contextlib
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, cast

import pytest
import requests
from microservice_chassis.testing import signal_handled, wait_until_serving

from support import ROOT, RUN_PY, SERVICE_NAME, RunningProcess, process_env

Start = Callable[..., tuple[RunningProcess, str]]
RunToExit = Callable[..., subprocess.CompletedProcess[str]]


STOP_SIGNALS = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]


@pytest.mark.parametrize("signal_number", STOP_SIGNALS, ids=lambda s: s.name)
def test_a_signal_closes_the_container_and_exits_0(start_process: Start, signal_number: signal.Signals) -> None:
    process, _ = start_process()
    assert process.stop(timeout=5, signal_number=signal_number) == 0
    assert f"{signal_number.name} received: closing" in process.output
    assert "Closed HTTP endpoint" in process.output
    assert f"Container {SERVICE_NAME} stopped" in process.output


def test_stopping_on_a_busy_machine_always_exits_0(start_process: Start) -> None:
    """granian's Rust threads outlive its stop by a little; an interpreter finalizing meanwhile aborted (134)
    about one stop in seven while the CPUs were busy (see library_fixes/process_exit.exit_at_once)."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        for _ in range(8):
            process, url = start_process()
            assert requests.get(f"{url}/hello_world/greeting", timeout=5).status_code == 200
            assert process.stop(timeout=10) == 0, process.output
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


@pytest.mark.parametrize(
    ("signal_number", "closed"),
    [(signal.SIGTERM, "stdout"), (signal.SIGINT, "both"), (signal.SIGHUP, "stdout")],
    ids=["SIGTERM", "SIGINT-stdout-and-stderr", "SIGHUP"],
)
def test_a_signal_stops_it_after_the_reader_of_its_output_went_away(
    tmp_path: Path, port: int, signal_number: signal.Signals, closed: str
) -> None:
    """`run.py | head -1`: the reader takes one line and closes its end; log lines written after that
    must neither fail a request nor keep a signal from closing the service and exiting 0."""
    env = process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), LOG_LEVEL="debug")
    stderr = subprocess.PIPE if closed == "both" else subprocess.DEVNULL
    with subprocess.Popen(
        [sys.executable, str(RUN_PY)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=stderr
    ) as popen:
        try:
            cast(IO[bytes], popen.stdout).readline()
            url = f"http://127.0.0.1:{port}"
            wait_until_serving(f"{url}/heartbeat")
            cast(IO[bytes], popen.stdout).close()
            if popen.stderr:
                popen.stderr.close()
            for _ in range(3):  # each logs its access line to the closed pipe
                assert requests.get(f"{url}/hello_world/greeting", timeout=5).status_code == 200
            popen.send_signal(signal_number)
            assert popen.wait(timeout=5) == 0
        finally:
            popen.kill()


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_while_it_imports_stops_it_before_it_opens(
    tmp_path: Path, port: int, signal_number: signal.Signals
) -> None:
    """A stop signal as soon as the process has a handler for it, long before it serves: exit 0, nothing
    opened, and a line that says so (the library's close says nothing of a container it never opened)."""
    process = RunningProcess([], process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port)), tmp_path)
    deadline = time.monotonic() + 10
    while not signal_handled(process.popen.pid, signal.SIGTERM):
        assert process.popen.poll() is None and time.monotonic() < deadline
        time.sleep(0.001)  # poll interval
    assert process.stop(timeout=5, signal_number=signal_number) == 0
    assert f"{signal_number.name} received: closing" in process.output
    assert f"Container {SERVICE_NAME} stopped before opening" in process.output
    assert "started" not in process.output
    assert "Traceback" not in process.output


def test_stop_signals_are_handled_before_run_py_imports_anything_else(run_to_exit: RunToExit) -> None:
    """The handlers come first: the Python check, the command line and the rest are imported after them."""
    result = run_to_exit("--help", PYTHONPROFILEIMPORTTIME="1")
    assert result.returncode == 0
    imported = re.findall(r"^import time:.*\| +([\w.]+)$", result.stderr, re.M)
    handlers = imported.index("microservice_chassis.process.stop_signals")
    later_modules = ("microservice_chassis.process.python_version", "microservice_chassis.process.command_line")
    for later in (*later_modules, "argparse", "dataclasses"):
        assert imported.index(later) > handlers, later


INTERRUPT_FIRST_IMPORT = """
import builtins, os, runpy, signal, sys

real_import = builtins.__import__


def interrupting_import(name, *args, **kwargs):
    if name == "microservice_chassis.process.stop_signals":  # after the hook: the earliest it can be hit
        builtins.__import__ = real_import
        os.kill(os.getpid(), signal.SIGINT)  # Python's own handler raises KeyboardInterrupt right here
    return real_import(name, *args, **kwargs)


sys.path.insert(0, os.path.dirname(sys.argv[1]))
sys.argv = sys.argv[1:]
builtins.__import__ = interrupting_import
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_ctrl_c_before_the_handlers_stops_it_without_a_traceback(tmp_path: Path, port: int) -> None:
    """Ctrl-C ~20 ms after the start printed a KeyboardInterrupt traceback and exited 130."""
    result = subprocess.run(
        [sys.executable, "-c", INTERRUPT_FIRST_IMPORT, str(RUN_PY)],
        cwd=tmp_path,
        env=process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port)),
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "",
        "run.py: SIGINT received: stopped before opening\n",
    )


def test_a_signal_as_soon_as_the_port_accepts_closes_what_was_opened(tmp_path: Path, port: int) -> None:
    with RunningProcess([], process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port)), tmp_path) as process:
        deadline = time.monotonic() + 10
        while True:
            assert process.popen.poll() is None and time.monotonic() < deadline
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except ConnectionRefusedError:
                time.sleep(0.001)  # poll interval
        assert process.stop(timeout=5) == 0
    assert "Closed HTTP endpoint" in process.output
    assert f"Container {SERVICE_NAME} stopped" in process.output


def blocks(pid: int, tid: str, signal_number: int) -> bool:
    """Whether thread `tid` of `pid` blocks `signal_number` (SigBlk in its /proc status)."""
    for line in Path(f"/proc/{pid}/task/{tid}/status").read_text().splitlines():
        if line.startswith("SigBlk:"):
            return bool(int(line.split()[1], 16) >> (signal_number - 1) & 1)
    return False


def test_a_signal_delivered_to_another_thread_than_the_main_one_stops_the_process(start_process: Start) -> None:
    """The kernel gives a process-directed signal to any thread that does not block it, often one of the
    server's: the main thread, waiting for the stop, must wake all the same (tgkill aims at such a thread; not
    at one that blocks the signal, as jemalloc's background threads do, which the kernel would never pick)."""
    process, _ = start_process()
    pid = process.popen.pid
    threads = [
        int(tid) for tid in os.listdir(f"/proc/{pid}/task") if int(tid) != pid and not blocks(pid, tid, signal.SIGTERM)
    ]
    assert threads
    assert ctypes.CDLL(None, use_errno=True).tgkill(pid, threads[-1], signal.SIGTERM) == 0
    assert process.popen.wait(timeout=5) == 0
    assert "SIGTERM received: closing" in process.output


def test_sighup_keeps_being_ignored_under_nohup(tmp_path: Path, port: int) -> None:
    """`nohup python run.py &`: closing the terminal (SIGHUP) must not stop the service; SIGTERM still does."""
    env = process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port))
    output = tmp_path / "output.txt"
    with (
        output.open("w") as out,
        subprocess.Popen(
            ["nohup", sys.executable, str(RUN_PY)], cwd=tmp_path, env=env, stdout=out, stderr=out
        ) as popen,
    ):
        try:
            wait_until_serving(f"http://127.0.0.1:{port}/heartbeat")
            popen.send_signal(signal.SIGHUP)
            popen.send_signal(signal.SIGTERM)
            assert popen.wait(timeout=5) == 0
        finally:
            popen.kill()
    assert "SIGTERM received: closing" in output.read_text()
    assert "SIGHUP received" not in output.read_text()


# A component's module: NAME, always open, its close the statements that follow (indented to fit).
OPENABLE = """
from pip_services3_commons.run import IOpenable


class NAME(IOpenable):
    def is_open(self):
        return True

    def open(self, correlation_id):
        pass

    def close(self, correlation_id):
"""
SLOW_CLOSE = """
import threading
from microservice_chassis.process.stop_signals import REPEAT_GRACE

threading.Event().wait(REPEAT_GRACE + 0.1)  # slow from the start, a minute in all
print("slow close under way", flush=True)
threading.Event().wait(60)
"""


def start_with_component(
    start_process: Start, tmp_path: Path, close: str, type_name: str, **env: str
) -> tuple[RunningProcess, str]:
    """The process with one more component, of class `type_name`, whose close runs the statements `close`."""
    module = type_name.lower()
    (tmp_path / f"{module}.py").write_text(OPENABLE.replace("NAME", type_name) + textwrap.indent(close, " " * 8))
    config = (ROOT / "config.yml").read_text() + f'\n- type: "{type_name},{module}"\n'
    (tmp_path / f"{module}.yml").write_text(config)
    return start_process("-c", f"{module}.yml", PYTHONPATH=str(tmp_path), **env)


def wait_for_output(process: RunningProcess, text: str) -> None:
    deadline = time.monotonic() + 10
    while text not in process.output:
        assert process.popen.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)  # poll interval


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_second_signal_during_a_slow_close_ends_it_at_once(
    start_process: Start, tmp_path: Path, signal_number: int
) -> None:
    """Once REPEAT_GRACE has passed since the first signal (the component's close takes longer)."""
    process, _ = start_with_component(start_process, tmp_path, SLOW_CLOSE, "SlowClose")
    process.popen.send_signal(signal_number)
    wait_for_output(process, "slow close under way")
    assert process.stop(timeout=2, signal_number=signal_number) == -signal_number


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_the_same_signal_twice_back_to_back_is_one_request(start_process: Start, signal_number: int) -> None:
    """`timeout 20 python run.py`, then SIGTERM to timeout: it signals the child, then the child's group."""
    process, _ = start_process()
    process.popen.send_signal(signal_number)
    process.popen.send_signal(signal_number)
    assert process.popen.wait(timeout=5) == 0
    assert f"Container {SERVICE_NAME} stopped" in process.output


HELD_CLOSE = """
import os

release = os.open(os.environ["RELEASE_FIFO"], os.O_RDWR)  # does not wait for a writer
print("close held", flush=True)
os.read(release, 1)  # until the test writes
"""


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_repeat_just_after_the_first_signal_does_not_force_the_exit(
    start_process: Start, tmp_path: Path, signal_number: int
) -> None:
    """The repeat surely comes after the first was handled and before the close ends (which the test
    holds): it is the same request, so the close completes and the process exits 0."""
    fifo = tmp_path / "release"
    os.mkfifo(fifo)
    process, _ = start_with_component(start_process, tmp_path, HELD_CLOSE, "HeldClose", RELEASE_FIFO=str(fifo))
    process.popen.send_signal(signal_number)
    wait_for_output(process, "close held")
    process.popen.send_signal(signal_number)
    with contextlib.suppress(OSError):  # ENXIO: no reader, the process has ended already
        release = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.write(release, b"!")
        os.close(release)
    assert process.popen.wait(timeout=5) == 0
    assert f"Container {SERVICE_NAME} stopped" in process.output


def test_no_request_sent_before_sigterm_fails(start_process: Start) -> None:
    """Ten keep-alive clients keep calling; after SIGTERM every request they had sent still gets its 200.

    A request refused at connect time was never sent, so it does not count.
    """
    process, url = start_process()
    outcomes: list[tuple[float, str]] = []
    stop = threading.Event()

    def client() -> None:
        session = requests.Session()
        while not stop.is_set():
            sent = time.monotonic()
            try:
                status = session.get(f"{url}/hello_world/greeting", timeout=5).status_code
                outcomes.append((sent, str(status)))
            except requests.ConnectionError as error:
                refused = isinstance(error.args[0], Exception) and "refused" in str(error.args[0]).lower()
                outcomes.append((sent, "refused" if refused else repr(error)))
                if refused:
                    return

    clients = [threading.Thread(target=client) for _ in range(10)]
    for thread in clients:
        thread.start()
    deadline = time.monotonic() + 10
    while sum(1 for _, outcome in outcomes if outcome == "200") < 500:  # under load
        assert time.monotonic() < deadline
        time.sleep(0.01)  # poll interval
    signalled = time.monotonic()
    assert process.stop(timeout=10) == 0
    stop.set()
    for thread in clients:
        thread.join(10)
    sent_before = [outcome for sent, outcome in outcomes if sent < signalled and outcome != "refused"]
    assert sent_before and set(sent_before) == {"200"}
