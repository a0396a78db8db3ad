"""The whole service as a user runs it: `python run.py` in a subprocess, from another working directory."""

import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from process.PythonVersion import unsupported_python, untested_python
from support import (
    ROOT,
    RUN_PY,
    RunningProcess,
    configured_descriptors,
    other_python,
    process_env,
    signal_handled,
    wait_until_serving,
)

Start = Callable[..., tuple[RunningProcess, str]]
RunToExit = Callable[..., subprocess.CompletedProcess]


def test_serves_greeting_heartbeat_and_status(start_process: Start) -> None:
    process, url = start_process()
    assert requests.get(f"{url}/hello_world/greeting", params={"name": "John"}, timeout=5).json() == "Hello, John!"
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == "Hello, World!"
    heartbeat = requests.get(f"{url}/heartbeat", timeout=5)
    assert heartbeat.status_code == 200
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", heartbeat.json())
    status = requests.get(f"{url}/status", timeout=5).json()
    assert status["name"] == "hello-world"
    assert status["description"] == "HelloWorld microservice"
    assert {str(d) for d in configured_descriptors()} <= set(status["components"])
    assert "Container hello-world started." in process.output


def test_log_line_times_are_marked_utc(start_process: Start) -> None:
    process, url = start_process(LOG_LEVEL="trace")
    requests.get(f"{url}/hello_world/greeting", timeout=5)
    assert process.stop() == 0
    stamps = re.findall(r"^\[[^:\]]*:[A-Z]+:([^\]]+)\]", process.output, re.M)
    assert len(stamps) > 5
    for stamp in stamps:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp), stamp


def test_metrics_swagger_ui_and_correlation_ids(start_process: Start) -> None:
    process, url = start_process(LOG_LEVEL="trace")
    for _ in range(3):
        requests.get(f"{url}/hello_world/greeting", params={"correlation_id": "ok-1"}, timeout=5)
    requests.get(f"{url}/hello_world/greeting", params={"name": "x" * 300, "correlation_id": "bad-2"}, timeout=5)
    metrics = requests.get(f"{url}/metrics", timeout=5)
    assert metrics.status_code == 200
    assert re.search(r'^exec_count\{[^}]*service="hello_world",command="greeting"\} 4$', metrics.text, re.M)
    assert "exec_time_average{" in metrics.text
    assert '"url": "/hello_world/swagger"' in requests.get(f"{url}/swagger/index.html", timeout=5).text
    assert re.search(r"^\[ok-1:TRACE:.*hello_world.greeting", process.output, re.M)
    assert re.search(r"^\[bad-2:INFO:.*NAME_TOO_LONG", process.output, re.M)
    assert "Prometheus" not in process.output  # no push-gateway warning when none is configured


STOP_SIGNALS = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]


@pytest.mark.parametrize("signal_number", STOP_SIGNALS, ids=lambda s: s.name)
def test_a_signal_closes_the_container_and_exits_0(start_process: Start, signal_number: int) -> None:
    process, _ = start_process()
    assert process.stop(timeout=5, signal_number=signal_number) == 0
    assert f"{signal_number.name} received: closing" in process.output
    assert "Closed HTTP endpoint" in process.output
    assert "Container hello-world stopped" in process.output


def test_stopping_on_a_busy_machine_always_exits_0(start_process: Start) -> None:
    """granian's Rust threads outlive its stop by a little; an interpreter finalizing meanwhile aborted (134)
    about one stop in seven while the CPUs were busy (see LibraryWorkarounds.exit_at_once)."""
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
    tmp_path: Path, port: int, signal_number: int, closed: str
) -> None:
    """`run.py | head -1`: the reader takes one line and closes its end; log lines written after that
    must neither fail a request nor keep a signal from closing the service and exiting 0."""
    env = process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), LOG_LEVEL="debug")
    stderr = subprocess.PIPE if closed == "both" else subprocess.DEVNULL
    with subprocess.Popen(
        [sys.executable, str(RUN_PY)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=stderr
    ) as popen:
        try:
            popen.stdout.readline()
            url = f"http://127.0.0.1:{port}"
            wait_until_serving(f"{url}/heartbeat")
            popen.stdout.close()
            if popen.stderr:
                popen.stderr.close()
            for _ in range(3):  # each logs its access line to the closed pipe
                assert requests.get(f"{url}/hello_world/greeting", timeout=5).status_code == 200
            popen.send_signal(signal_number)
            assert popen.wait(timeout=5) == 0
        finally:
            popen.kill()


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_while_it_imports_stops_it_before_it_opens(tmp_path: Path, port: int, signal_number: int) -> None:
    """A stop signal as soon as the process has a handler for it, long before it serves: exit 0, nothing
    opened, and a line that says so (the library's close says nothing of a container it never opened)."""
    process = RunningProcess([], process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port)), tmp_path)
    deadline = time.monotonic() + 10
    while not signal_handled(process.popen.pid, signal.SIGTERM):
        assert process.popen.poll() is None and time.monotonic() < deadline
        time.sleep(0.001)  # poll interval
    assert process.stop(timeout=5, signal_number=signal_number) == 0
    assert f"{signal_number.name} received: closing" in process.output
    assert "Container hello-world stopped before opening" in process.output
    assert "started" not in process.output
    assert "Traceback" not in process.output


def test_stop_signals_are_handled_before_run_py_imports_anything_else(run_to_exit: RunToExit) -> None:
    """The handlers come first: the Python check, the command line and the rest are imported after them."""
    result = run_to_exit("--help", PYTHONPROFILEIMPORTTIME="1")
    assert result.returncode == 0
    imported = re.findall(r"^import time:.*\| +([\w.]+)$", result.stderr, re.M)
    handlers = imported.index("process.StopSignals")
    for later in ("process.PythonVersion", "process.CommandLine", "argparse", "dataclasses"):
        assert imported.index(later) > handlers, later


INTERRUPT_FIRST_IMPORT = """
import builtins, os, runpy, signal, sys

real_import = builtins.__import__


def interrupting_import(name, *args, **kwargs):
    if name.startswith("process."):  # run.py's first import of its own modules: the earliest it can be hit
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
        "hello-world: SIGINT received: stopped before opening\n",
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
    assert "Container hello-world stopped" in process.output


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


SLOW_CLOSE = """
import threading
from pip_services3_commons.run import IOpenable
from process.StopSignals import REPEAT_GRACE


class SlowClose(IOpenable):
    def is_open(self):
        return True

    def open(self, correlation_id):
        pass

    def close(self, correlation_id):
        threading.Event().wait(REPEAT_GRACE + 0.1)  # slow from the start, a minute in all
        print("slow close under way", flush=True)
        threading.Event().wait(60)
"""


def start_with_component(
    start_process: Start, tmp_path: Path, source: str, type_name: str, **env: str
) -> tuple[RunningProcess, str]:
    """The process with one more component, of class `type_name` defined by `source`."""
    module = type_name.lower()
    (tmp_path / f"{module}.py").write_text(source)
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
    assert "Container hello-world stopped" in process.output


HELD_CLOSE = """
import os
from pip_services3_commons.run import IOpenable


class HeldClose(IOpenable):
    def is_open(self):
        return True

    def open(self, correlation_id):
        pass

    def close(self, correlation_id):
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
    assert "Container hello-world stopped" in process.output


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


def test_p_parameter_applies(start_process: Start) -> None:
    _, url = start_process("-p", "DEFAULT_NAME=Bob")
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == "Hello, Bob!"


def test_environment_variable_applies(start_process: Start) -> None:
    _, url = start_process(DEFAULT_NAME="Alice")
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == "Hello, Alice!"


def test_c_overrides_the_config_file(start_process: Start, tmp_path: Path) -> None:
    config = (Path(__file__).parent.parent / "config.yml").read_text().replace("HelloWorld microservice", "Custom")
    (tmp_path / "custom.yml").write_text(config)
    _, url = start_process("-c", "custom.yml")
    assert requests.get(f"{url}/status", timeout=5).json()["description"] == "Custom"


@pytest.mark.parametrize("value", ["yes", "Dr: Who #1", "line \"two\" 'ünï✓' {{DEFAULT_NAME}} [x] &a *b"])
def test_a_hostile_environment_value_arrives_as_that_exact_string(start_process: Start, value: str) -> None:
    _, url = start_process(DEFAULT_NAME=value)
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == f"Hello, {value}!"


def test_a_p_value_is_taken_literally(start_process: Start) -> None:
    _, url = start_process("-p", "DEFAULT_NAME=a=b; c: #d")
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == "Hello, a=b; c: #d!"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOG_LEVEL", "verbose"),
        ("LOG_LEVEL", "garbage"),
        ("LOG_LEVEL", "info\n- descriptor: pip-services:logger:console:default:1.0"),
        ("ACCESS_LOG_LEVEL", "loud"),
        ("HTTP_PORT", "http"),
        ("HTTP_PORT", "70000"),
        ("CORS_ORIGINS", "example.com"),
        ("CORS_ORIGINS", "https://ok.example.com,https://bad.example.com/path"),
        ("CORS_ORIGINS", "https://a.example:99999"),
        ("CORS_ORIGINS", "https://ok.example.com,http://a.example:0"),
        ("LOG_LEVEL", "none"),
        ("LOG_LEVEL", "5"),
        ("LOG_LEVEL", "warning"),
        ("ACCESS_LOG_LEVEL", "none"),
        ("ACCESS_LOG_LEVEL", "0"),
        ("DEFAULT_NAME", " "),
        ("DEFAULT_NAME", "two\nlines"),
        ("DEFAULT_NAME", "tab\tinside"),
        ("DEFAULT_NAME", "x" * 257),
        ("HTTP_HOST", "bad host"),
        ("HTTP_HOST", "-dash.example"),
        ("HTTP_HOST", "a" * 64 + ".example"),
    ],
    ids=lambda value: value if len(value) < 30 else f"{value[:20]}...",
)
def test_a_bad_parameter_value_exits_1_with_one_line_naming_it(
    run_to_exit: RunToExit, port: int, name: str, value: str
) -> None:
    result = run_to_exit(**{"HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(port), name: value})
    assert_one_line_failure(result, f"{name}={value!r}" if len(value) < 60 else f"{name}={value[:20]!r}"[:-1])


def test_a_long_bad_value_is_named_in_one_short_line(run_to_exit: RunToExit, port: int) -> None:
    """A 300-character host failed inside the idna codec ("label too long"), without naming HTTP_HOST."""
    result = run_to_exit(HTTP_HOST="a" * 300, HTTP_PORT=str(port))
    assert_one_line_failure(result, "HTTP_HOST='aaaa", "(300 characters)", "not an IP address or a host name")
    assert len(result.stderr) < 200


def test_a_default_name_of_bytes_that_are_not_utf_8_is_named_in_one_line(run_to_exit: RunToExit, port: int) -> None:
    """It failed inside the controller's configure, in a line naming a component reference, not DEFAULT_NAME."""
    result = run_to_exit(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), DEFAULT_NAME="caf\udce9")  # the byte 0xE9
    assert_one_line_failure(result, "DEFAULT_NAME=", "not valid text")


def test_a_long_bad_origin_is_cut_in_the_message(run_to_exit: RunToExit, port: int) -> None:
    result = run_to_exit(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), CORS_ORIGINS="x" * 5000)
    assert_one_line_failure(result, "CORS_ORIGINS=")
    assert len(result.stderr) < 400


def test_an_empty_environment_variable_does_not_hide_a_p_value(start_process: Start) -> None:
    """Containers often export parameters empty; an empty value means unset, so -p applies."""
    _, url = start_process("-p", "DEFAULT_NAME=Bob", DEFAULT_NAME="")
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == "Hello, Bob!"


@pytest.mark.parametrize(("name", "value"), [("LOG_LEVEL", "WARN"), ("ACCESS_LOG_LEVEL", "Trace")])
def test_log_levels_are_read_in_any_case(start_process: Start, name: str, value: str) -> None:
    process, _ = start_process(**{name: value})
    assert process.stop() == 0


def test_default_name_is_trimmed(start_process: Start) -> None:
    _, url = start_process(DEFAULT_NAME=f"  {'x' * 256}  ")
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == f"Hello, {'x' * 256}!"


@pytest.mark.parametrize("key", ["UNKNOWN", "HTTP_PROT", "http_port"])
def test_a_p_key_the_config_does_not_read_is_a_command_line_mistake(
    run_to_exit: RunToExit, port: int, key: str
) -> None:
    """The template ignores a name it has no placeholder for: `-p HTTP_PROT=9000` started on the default port."""
    result = run_to_exit("-p", f"{key}={port}", HTTP_HOST="127.0.0.1", HTTP_PORT=str(port))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("usage: run.py")
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(f"run.py: error: -p {key}: ") and "config.yml" in last_line


def test_p_keys_are_those_of_the_config_file_given(
    start_process: Start, run_to_exit: RunToExit, tmp_path: Path
) -> None:
    config = (ROOT / "config.yml").read_text().replace("{{DEFAULT_NAME}}", "{{GREETED}}")
    (tmp_path / "custom.yml").write_text(config.replace("{{#unless DEFAULT_NAME}}", "{{#unless GREETED}}"))
    result = run_to_exit("-c", "custom.yml", "-p", "DEFAULT_NAME=Zed")
    assert result.returncode == 2
    assert (
        result.stderr.strip().splitlines()[-1]
        == "run.py: error: -p DEFAULT_NAME: custom.yml has no parameter DEFAULT_NAME"
    )
    _, url = start_process("-c", "custom.yml", "-p", "GREETED=Zed")
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == "Hello, Zed!"


def test_environment_variables_the_config_does_not_read_are_ignored(start_process: Start) -> None:
    process, _ = start_process(HTTP_PROT="9000", UNKNOWN="1")
    assert process.stop() == 0


@pytest.mark.parametrize(
    "args",
    [["--port", "18323"], ["--bogus"], ["-p"], ["-p", "FOO"], ["-p", "=x"], ["-c"], ["extra"], ["--conf", "x.yml"]],
    ids=" ".join,
)
def test_a_command_line_mistake_prints_the_usage_and_exits_2(run_to_exit: RunToExit, port: int, args: list) -> None:
    result = run_to_exit(*args, HTTP_HOST="127.0.0.1", HTTP_PORT=str(port))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("usage: run.py")
    assert result.stderr.strip().splitlines()[-1].startswith("run.py: error: ")


def help_parameters(text: str) -> list[tuple[str, str, str]]:
    """(name, default, description) of each parameter `--help` lists."""
    section = text.split("parameters (")[1].split("\n", 1)[1]
    entries = re.findall(r"^  (\w+) +default (.*)\n((?:    .*\n?)+)", section, re.M)
    return [(name, default, " ".join(description.split())) for name, default, description in entries]


def readme_parameters() -> list[tuple[str, str, str]]:
    """(name, default, description) of each row of README's configuration table, without Markdown."""
    section = (ROOT / "README.md").read_text().split("\n## Configuration\n")[1].split("\n## ")[0]
    rows = re.findall(r"^\| `(\w+)` \| (.*?) \| (.*) \|$", section, re.M)
    return [(name, default.strip("`"), description.replace("`", "")) for name, default, description in rows]


def test_help_lists_the_options_and_every_parameter_as_readme_does(run_to_exit: RunToExit) -> None:
    result = run_to_exit("--help")
    assert result.returncode == 0
    # Python 3.13's argparse names the metavar once (-c, --config FILE), older ones after each flag (-c FILE, ...).
    for short, long, metavar in (("-c", "--config", "FILE"), ("-p", "--param", "KEY=VALUE"), ("-h", "--help", "")):
        (line,) = (line for line in result.stdout.splitlines() if re.match(f"  {short}[ ,]", line))
        assert f", {long}" in line
        assert metavar in line
    listed = help_parameters(result.stdout)
    assert {name for name, _, _ in listed} >= {"HTTP_HOST", "HTTP_PORT", "LOG_LEVEL", "DEFAULT_NAME"}
    assert listed == readme_parameters()


def assert_one_line_failure(result: subprocess.CompletedProcess, *expected: str) -> None:
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 1
    assert len(lines) == 1, lines
    for text in expected:
        assert text in lines[0]


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
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
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


def test_never_answers_404_while_starting(tmp_path: Path, port: int) -> None:
    """Polls from the moment the process is spawned: connection refused until it serves, then 200."""
    process = RunningProcess([], process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port)), tmp_path)
    statuses = []
    try:
        deadline = time.monotonic() + 10
        while not statuses or statuses[-1] != 200:
            assert time.monotonic() < deadline, statuses
            try:
                statuses.append(requests.get(f"http://127.0.0.1:{port}/hello_world/greeting", timeout=1).status_code)
            except requests.ConnectionError:
                time.sleep(0.005)  # poll interval
        assert set(statuses) == {200}
    finally:
        process.stop()


def test_heartbeat_and_status_report_utc_whatever_the_tz(start_process: Start) -> None:
    _, url = start_process(TZ="Asia/Tokyo")
    now = datetime.now(UTC)
    heartbeat = datetime.fromisoformat(requests.get(f"{url}/heartbeat", timeout=5).json())
    current = datetime.fromisoformat(requests.get(f"{url}/status", timeout=5).json()["current_time"])
    assert abs((heartbeat - now).total_seconds()) < 60
    assert abs((current - now).total_seconds()) < 60


def test_windows_is_refused_in_one_line_naming_wsl(tmp_path: Path) -> None:
    """No Windows machine here: run.py where the platform says win32 and the signal module has no SIGHUP."""
    windows = (
        "import runpy, signal, sys; del signal.SIGHUP; sys.platform = 'win32'; sys.argv = ['run.py']; "
        f"sys.path.insert(0, {str(RUN_PY.parent)!r}); runpy.run_path({str(RUN_PY)!r}, run_name='__main__')"
    )
    result = subprocess.run([sys.executable, "-c", windows], cwd=tmp_path, capture_output=True, text=True, timeout=10)
    assert_one_line_failure(result, "hello-world: Windows", "WSL")
    assert unsupported_python((3, 12), platform="linux") is None


@pytest.mark.parametrize("version", ["3.10", "3.9"])
def test_an_old_python_is_refused_with_one_line_saying_what_works(run_to_exit: RunToExit, version: str) -> None:
    python = other_python(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    result = run_to_exit(python=python)
    assert_one_line_failure(result, f"Python {version} is too old", "3.11 to 3.15", "python3.12 -m venv .venv")


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
        "hello-world: warning: Python 3.16 is newer than the versions this service is tested on (3.11 to 3.15); "
        "starting anyway"
    )


@pytest.mark.parametrize("version", [(3, 11), (3, 12), (3, 13), (3, 14), (3, 15)], ids=str)
def test_every_supported_python_is_let_run_without_a_warning(version: tuple[int, int]) -> None:
    assert unsupported_python(version, platform="linux") is None
    assert untested_python(version) is None


def test_missing_dependencies_are_named_with_the_command_that_installs_them(run_to_exit: RunToExit) -> None:
    """The tutorial's own `python run.py`, with a supported Python that has none of the requirements."""
    python = next(filter(None, map(other_python, ["3.12", "3.11"])), None)
    if python is None or subprocess.run([python, "-c", "import pip_services3_container"]).returncode == 0:
        pytest.skip("no Python 3.11 or 3.12 without the requirements on this machine")
    result = run_to_exit(python=python)
    assert_one_line_failure(result, "No module named", "pip install -r requirements.txt")


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
    for name in ("process", "requirements.txt", "requirements-dev.txt", "run.py"):  # a checkout, run.py's part
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
    assert_one_line_failure(result, "Python 3.10 is too old", "3.11 to 3.15", "pip install -r requirements-dev.txt")
