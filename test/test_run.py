"""The whole service as a user runs it: `python run.py` in a subprocess, from another working directory."""

import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from support import RunningProcess, configured_descriptors, process_env

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


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_closes_the_container_and_exits_0(start_process: Start, signal_number: int) -> None:
    process, _ = start_process()
    assert process.stop(timeout=5, signal_number=signal_number) == 0
    assert "Closed HTTP endpoint" in process.output
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


def test_help_prints_usage(run_to_exit: RunToExit) -> None:
    result = run_to_exit("--help")
    assert result.returncode == 0
    assert "-c <config file>" in result.stdout


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


@pytest.mark.parametrize(("host", "port", "expected"), [
    ("127.0.0.1", "http", "127.0.0.1:http"),
    ("127.0.0.1", "70000", "127.0.0.1:70000"),
    ("no-such-host.invalid", "8080", "no-such-host.invalid:8080"),
])  # fmt: skip
def test_bad_address_exits_1_within_2_s(run_to_exit: RunToExit, host: str, port: str, expected: str) -> None:
    started = time.monotonic()
    result = run_to_exit(HTTP_HOST=host, HTTP_PORT=port)
    assert time.monotonic() - started < 2
    assert_one_line_failure(result, expected)
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


@pytest.mark.parametrize("version", ["3.13", "3.10"])
def test_unsupported_python_is_refused_with_one_line(run_to_exit: RunToExit, version: str) -> None:
    python = other_python(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    assert_one_line_failure(run_to_exit(python=python), f"Python {version} is not supported", "3.11-3.12")
