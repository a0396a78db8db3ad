"""The whole service as a user runs it (`python run.py` in a subprocess, from another working directory): what
it serves and logs."""

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.refer import Descriptor, References
from pip_services3_components.log import ConsoleLogger, LogLevel
from pip_services3_components.trace import LogTracer

from HelloWorldCommandableHttpClient import HelloWorldCommandableHttpClient
from support import ROOT, SERVICE_NAME, RunningProcess, configured_descriptors, process_env

Start = Callable[..., tuple[RunningProcess, str]]


def test_serves_greeting_heartbeat_and_status(start_process: Start) -> None:
    process, url = start_process()
    assert requests.get(f"{url}/hello_world/greeting", params={"name": "John"}, timeout=5).json() == "Hello, John!"
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == "Hello, World!"
    heartbeat = requests.get(f"{url}/heartbeat", timeout=5)
    assert heartbeat.status_code == 200
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", heartbeat.json())
    status = requests.get(f"{url}/status", timeout=5).json()
    assert status["name"] == SERVICE_NAME
    assert status["description"] == "HelloWorld microservice"
    assert {str(d) for d in configured_descriptors()} <= set(status["components"])
    assert f"Container {SERVICE_NAME} started." in process.output


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
    assert re.search(r'^pipservices_exec_total\{command="greeting",service="hello_world"\} 4.0$', metrics.text, re.M)
    assert re.search(r'^pipservices_exec_duration_seconds_bucket\{[^}]*le="0.001"', metrics.text, re.M)
    assert '"url": "/hello_world/swagger"' in requests.get(f"{url}/swagger/index.html", timeout=5).text
    assert re.search(r"^\[ok-1:TRACE:.*hello_world.greeting", process.output, re.M)
    assert re.search(r"^\[bad-2:INFO:.*NAME_TOO_LONG", process.output, re.M)
    assert "Prometheus" not in process.output  # no push-gateway warning when none is configured


def test_never_answers_404_while_starting(tmp_path: Path, port: int) -> None:
    """Polls from the moment the process is spawned: connection refused until it serves, then 200."""
    process = RunningProcess([], process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port)), tmp_path)
    statuses: list[int] = []
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


def test_a_log_tracer_in_the_config_traces_the_services_and_the_clients(
    start_process: Start, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pip.Services' LogTracer, added to config.yml: every service call is traced, and a client with one works."""
    config = tmp_path / "traced.yml"
    config.write_text((ROOT / "config.yml").read_text() + '\n- descriptor: "pip-services:tracer:log:default:1.0"\n')
    process, url = start_process("-c", str(config), LOG_LEVEL="debug")
    assert requests.get(f"{url}/hello_world/greeting", params={"correlation_id": "t-1"}, timeout=5).ok
    client = HelloWorldCommandableHttpClient()
    client.configure(ConfigParams.from_tuples("connection.uri", url))
    tracer = LogTracer()
    logger = ConsoleLogger()
    logger.set_level(LogLevel.Trace)
    references = References.from_tuples(
        Descriptor("pip-services", "tracer", "log", "default", "1.0"), tracer,
        Descriptor("pip-services", "logger", "console", "default", "1.0"), logger,
    )  # fmt: skip
    tracer.set_references(references)
    client.set_references(references)
    client.open(None)
    try:
        assert client.greeting("t-2", "John") == "Hello, John!"
    finally:
        client.close(None)
    assert re.search(r"^\[t-2:\w+:[^]]*\] Executed v1/hello_world\.greeting in ", capsys.readouterr().out, re.M)
    deadline = time.monotonic() + 5
    while "[t-2:" not in process.output and time.monotonic() < deadline:
        time.sleep(0.02)  # poll for the service's lines
    assert re.search(r"^\[t-1:\w+:[^]]*\] Executed hello_world\.greeting in ", process.output, re.M)
    assert re.search(r"^\[t-2:\w+:[^]]*\] Executed v1/hello_world\.greeting in ", process.output, re.M)
