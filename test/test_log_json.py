"""LOG_FORMAT=json: the whole process (`python run.py`, its stdout and stderr real pipes), each line parsed with
json.loads; and a fault as one event in either format."""

import contextlib
import json
import re
import signal
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from microservice_chassis.testing import wait_until_serving

from support import ROOT, RUN_PY, SERVICE_NAME, output_when_the_reader_comes_back, process_env

TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
CORE = ["time", "level", "logger", "correlation_id", "message"]
# Text a hostile client sends: a terminal escape, a bidi override, a line separator, a newline, quotes, a backslash.
HOSTILE = 'a\x1b[31m\u202e\u2028\n"\\z'
# A service whose route fails with a multi-line message, loaded by the container from its `type` (no factory).
FAULTY_SERVICE = """
import microservice_chassis.library_fixes  # noqa: F401
from pip_services3_rpc.services import RestService


class FaultyService(RestService):
    def __init__(self):
        super().__init__()
        self._base_route = "faulty"

    def register(self):
        self.register_route("GET", "/boom", None, self._boom)

    def _boom(self):
        raise RuntimeError("boom\\nsecond line")
"""


class Output:
    """What a finished run.py wrote on each of its pipes."""

    def __init__(self, stdout: bytes, stderr: bytes) -> None:
        self.stdout, self.stderr = stdout.decode("ascii"), stderr.decode("ascii")  # JSON lines are ASCII

    def events(self) -> list[dict[str, Any]]:
        """Every line of both pipes, each parsed on its own (a line that is not one JSON object fails here)."""
        events = [json.loads(line) for line in (self.stdout + self.stderr).splitlines()]
        assert all(isinstance(event, dict) and list(event)[:5] == CORE for event in events), events
        return events


@contextlib.contextmanager
def service(tmp_path: Path, port: int, *args: str, **env: str) -> Iterator[tuple[str, list[Output]]]:
    """run.py with both outputs pipes; yields its URL and a list that holds its Output once it exited (SIGTERM)."""
    environment = process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), **env)
    popen = subprocess.Popen(
        [sys.executable, str(RUN_PY), *args],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    output: list[Output] = []
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{url}/heartbeat")
        yield url, output
        popen.send_signal(signal.SIGTERM)
        stdout, stderr = popen.communicate(timeout=15)
        assert popen.returncode == 0
        output.append(Output(stdout, stderr))
    finally:
        if popen.poll() is None:
            popen.kill()
            popen.communicate()


def config_with_faulty_service(tmp_path: Path) -> tuple[str, dict[str, str]]:
    """The `-c` file (config.yml with the faulty service) and the environment that lets the container import it."""
    (tmp_path / "faulty_service.py").write_text(FAULTY_SERVICE)
    config = tmp_path / "config.yml"
    config.write_text((ROOT / "config.yml").read_text() + '\n- type: "FaultyService,faulty_service"\n')
    return str(config), {"PYTHONPATH": str(tmp_path)}


def test_every_line_is_a_json_object_with_the_documented_fields(tmp_path: Path, port: int) -> None:
    with service(tmp_path, port, LOG_FORMAT="json", ACCESS_LOG_LEVEL="info") as (url, output):
        greeting = requests.get(f"{url}/hello_world/greeting", params={"name": "José", "correlation_id": "c-1"})
        assert greeting.json() == "Hello, José!"
        assert (
            requests.get(f"{url}/hello_world/greeting", params={"name": HOSTILE, "correlation_id": "c-2"}).ok is False
        )
    events = output[0].events()
    for event in events:
        assert TIME.fullmatch(event["time"]) and event["level"] in ("trace", "debug", "info", "warn", "error", "fatal")
        assert isinstance(event["message"], str) and isinstance(event["logger"], str)
    messages = [event["message"] for event in events]
    assert f"Container {SERVICE_NAME} started." in messages and f"Container {SERVICE_NAME} stopped" in messages
    access = [event for event in events if event["logger"] == "access" and event["route"] != "/heartbeat"]
    assert [(e["correlation_id"], e["method"], e["route"], e["status"]) for e in access] == [
        ("c-1", "GET", "/hello_world/greeting", 200),
        ("c-2", "GET", "/hello_world/greeting", 400),
    ]
    assert all(isinstance(e["duration_ms"], float) and e["duration_ms"] > 0 for e in access)
    assert access[0]["message"] == f"GET /hello_world/greeting 200 {access[0]['duration_ms']:.1f} ms"
    counters = [event for event in events if event["logger"] == "counters"]
    assert counters and counters[0]["counter"] == "hello_world.greeting.exec_count"
    assert (counters[0]["counter_type"], counters[0]["count"]) == ("increment", 1)
    assert "CounterType" not in output[0].stdout


def test_what_a_client_sent_is_escaped_by_json_alone(tmp_path: Path, port: int) -> None:
    """The hostile text comes back from json.loads exactly as sent: escaped once (by JSON), never twice, and the
    line itself is plain ASCII (no control, bidi or separator character reaches the reader)."""
    with service(tmp_path, port, LOG_FORMAT="json", ACCESS_LOG_LEVEL="info") as (url, output):
        path = "/x" + urllib.parse.quote(HOSTILE)
        assert requests.get(f"{url}{path}", params={"correlation_id": "c-3"}).status_code == 404
        assert requests.post(f"{url}/v1/hello_world/greeting", json={"name": HOSTILE}).status_code == 400
    assert (output[0].stdout + output[0].stderr).isascii()
    events = output[0].events()
    assert [e["route"] for e in events if e.get("status") == 404] == ["/x" + HOSTILE]
    rejected = [e["message"] for e in events if e["message"].startswith("Rejected v1/hello_world.greeting")]
    assert rejected == ["Rejected v1/hello_world.greeting: NAME_HAS_CONTROL_CHARACTERS Name must not contain control "
                        "characters"]  # fmt: skip


def test_a_fault_is_one_json_event_with_its_error(tmp_path: Path, port: int) -> None:
    config, env = config_with_faulty_service(tmp_path)
    with service(tmp_path, port, "-c", config, LOG_FORMAT="json", **env) as (url, output):
        answer = requests.get(f"{url}/faulty/boom", headers={"correlation_id": "c-500"})
        assert (answer.status_code, answer.json()["message"]) == (500, "internal error")
    errors = [json.loads(line) for line in output[0].stderr.splitlines()]
    assert [(e["level"], e["logger"], e["correlation_id"]) for e in errors] == [
        ("error", SERVICE_NAME, "c-500"),
        ("error", "access", "c-500"),
    ]
    fault = errors[0]
    assert fault["message"] == "Internal error"
    assert set(fault["error"]) == {"type", "message", "code", "stack"}
    assert (fault["error"]["type"], fault["error"]["code"]) == ("RuntimeError", "INTERNAL_ERROR")
    assert fault["error"]["stack"].startswith("Traceback (most recent call last):\n")
    assert fault["error"]["stack"].endswith("RuntimeError: boom\nsecond line")
    assert (errors[1]["route"], errors[1]["status"]) == ("/faulty/boom", 500)


def test_a_fault_is_one_text_line_its_stack_escaped(tmp_path: Path, port: int) -> None:
    config, env = config_with_faulty_service(tmp_path)
    with service(tmp_path, port, "-c", config, **env) as (url, output):
        assert requests.get(f"{url}/faulty/boom", headers={"correlation_id": "c-500"}).status_code == 500
    fault, access = output[0].stderr.splitlines()
    assert re.match(r"\[c-500:ERROR:[^\]]+\] Internal error: RuntimeError\('boom\\nsecond line'\) Stack trace: ", fault)
    assert fault.endswith(r"RuntimeError: boom\nsecond line") and r"Traceback (most recent call last):\n  File" in fault
    assert re.match(r"\[c-500:ERROR:[^\]]+\] GET /faulty/boom 500 ", access)


def test_the_dropped_lines_line_is_json_too(tmp_path: Path, port: int, unread_pipe: tuple[int, int]) -> None:
    output = output_when_the_reader_comes_back(unread_pipe, tmp_path, port, b'"n3009"', LOG_FORMAT="json")
    events = [json.loads(line) for line in output.decode("ascii").splitlines()]
    told = [event for event in events if event["logger"] == "log-output"]
    assert len(told) == 1 and told[0]["level"] == "warn" and told[0]["dropped_lines"] > 0
    assert told[0]["message"] == f"{told[0]['dropped_lines']} log lines dropped while the output could not be written"


def test_a_startup_failure_is_one_json_event(tmp_path: Path, port: int) -> None:
    with service(tmp_path, port, LOG_FORMAT="json") as (_, output):
        taken = subprocess.run(
            [sys.executable, str(RUN_PY)],
            cwd=tmp_path,
            env=process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), LOG_FORMAT="json"),
            capture_output=True,
            timeout=15,
        )
    assert taken.returncode == 1 and taken.stdout == b""
    (failure,) = Output(b"", taken.stderr).events()
    assert (failure["level"], failure["logger"]) == ("fatal", SERVICE_NAME)
    assert failure["message"] == f"Cannot listen on 127.0.0.1:{port}: Address already in use"
    assert output[0].events()


@pytest.mark.parametrize("value", ["xml", "json5", "JSON "])
def test_a_log_format_the_service_does_not_know_stops_the_start_in_one_line(run_to_exit: Any, value: str) -> None:
    result = run_to_exit(LOG_FORMAT=value)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"{SERVICE_NAME}: LOG_FORMAT={value!r} is not a log format (text, json)\n"


def test_log_format_is_read_in_any_case(tmp_path: Path, port: int) -> None:
    with service(tmp_path, port, LOG_FORMAT="JSON") as (_, output):
        pass
    assert output[0].events()
