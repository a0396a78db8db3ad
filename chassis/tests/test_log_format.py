"""process/LogFormat: the two formats of a line, the field hook, and the escaping policy in each."""

import json
from collections.abc import Iterator

import pytest
from microservice_chassis.log import line_format
from microservice_chassis.log.client_text import printable


@pytest.fixture
def json_lines() -> Iterator[None]:
    """JSON lines for one test (the format is the process's: set back to text after)."""
    line_format.use("json")
    yield
    line_format.use("text")


def test_a_text_line_is_one_line_whatever_its_message_holds() -> None:
    line = line_format.line("ERROR", "c1", "failed", error=ValueError("bad\nworse"))
    assert "\n" not in line and line.endswith("failed: bad\\nworse")


def test_client_text_is_escaped_once_in_either_format(json_lines: None) -> None:
    text = "a\x1b\u202e\\\n"
    assert printable(text) == text  # JSON escapes it
    assert json.loads(line_format.line("INFO", "c1", printable(text)))["message"] == text
    line_format.use("text")
    assert printable(text) == "a\\x1b\\u202e\\\\\\x0a"
    assert printable("x" * 300) == "x" * 300
    assert printable("x" * 301) == "x" * 299 + "…"  # the one cut of client text (LogText.bounded)


def test_a_field_hook_adds_its_fields_to_every_json_line(json_lines: None) -> None:
    line_format.FIELD_HOOKS.append(lambda correlation_id: {"trace_id": f"t-{correlation_id}", "level": "fake"})
    try:
        event = json.loads(line_format.line("WARN", "c9", "m", logger="access", fields={"status": 200}))
    finally:
        line_format.FIELD_HOOKS.clear()
    assert event == {
        "time": event["time"],
        "level": "warn",  # a hook or an event's fields cannot replace a core field
        "logger": "access",
        "correlation_id": "c9",
        "message": "m",
        "trace_id": "t-c9",
        "status": 200,
    }


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="'xml' is not a log format"):
        line_format.use("xml")
    assert not line_format.is_json()
