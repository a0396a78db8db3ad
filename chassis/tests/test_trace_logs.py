"""Logs and tracing meet: the trace in every line written within one, the SDK's own records as the service's lines,
probes and scrapes left out of tracing, and the trace context allowed from browsers."""

from microservice_chassis.library_fixes.loggers import LevelCheckingCompositeLogger, UtcConsoleLogger

import json
import logging
import re
from collections.abc import Iterator

import pytest
from microservice_chassis.http.spans import EXCLUDED_URLS_VARIABLE, excluded_urls
from microservice_chassis.log import line_format
from microservice_chassis.tracing import sdk_log, trace_context
from microservice_chassis.tracing.trace_context import TraceContext
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.refer import Descriptor, References

TRACE = TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 1)


@pytest.fixture
def json_lines() -> Iterator[None]:
    """JSON lines for one test (the format is the process's: set back to text after)."""
    line_format.use("json")
    yield
    line_format.use("text")


def test_a_json_line_within_a_trace_names_it(json_lines: None) -> None:
    with trace_context.serving(TRACE):
        given = json.loads(line_format.line("INFO", "mine", "m"))
        generated = json.loads(line_format.line("INFO", None, "m"))
    outside = json.loads(line_format.line("INFO", None, "m"))
    assert (given["trace_id"], given["span_id"], given["correlation_id"]) == (TRACE.trace_id, TRACE.parent_id, "mine")
    assert generated["correlation_id"] == TRACE.trace_id  # no correlation id: the trace's is the request's
    assert list(generated)[:7] == [*line_format.CORE_FIELDS, "trace_id", "span_id"]
    assert "trace_id" not in outside and outside["correlation_id"] is None


def test_a_text_line_within_a_trace_ends_with_it() -> None:
    with trace_context.serving(TRACE):
        line = line_format.line("INFO", "mine", "Rejected")
    assert line.startswith("[mine:INFO:")
    assert line.endswith(f"] Rejected trace_id={TRACE.trace_id} span_id={TRACE.parent_id}")
    assert "trace_id" not in line_format.line("INFO", "mine", "Rejected")


@pytest.fixture(autouse=True)
def sdk_logger_restored() -> Iterator[None]:
    """The SDK's logger as it was, whatever sdk_log.install did to it in a test."""
    sdk_logger = logging.getLogger(sdk_log.SDK_LOGGER)
    handlers, propagate = sdk_logger.handlers[:], sdk_logger.propagate
    yield
    sdk_logger.handlers, sdk_logger.propagate = handlers, propagate


def _json_logger(level: str) -> LevelCheckingCompositeLogger:
    console = UtcConsoleLogger()
    console.configure(ConfigParams.from_tuples("level", level, "format", "json"))
    logger = LevelCheckingCompositeLogger()
    logger.set_references(References.from_tuples(Descriptor("pip-services", "logger", "console", "a", "1.0"), console))
    return logger


def test_the_sdks_records_are_json_lines_each_kind_once_a_window(
    json_lines: None, capsys: pytest.CaptureFixture[str]
) -> None:
    sdk_log.install(_json_logger("info"))
    exporter_logger = logging.getLogger("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    for _ in range(50):
        exporter_logger.error("Failed to export %s batch code: %s, reason: %s", "spans", 500, "boom")
    exporter_logger.warning("Transient error %s", "refused")
    try:
        raise RuntimeError("kaput")
    except RuntimeError:
        logging.getLogger("opentelemetry.sdk._shared_internal").exception("Exception while exporting %s.", "Span")
    err = capsys.readouterr().err.splitlines()
    lines = [json.loads(line) for line in err]  # every one a JSON object, none plain text
    assert [(line["level"], line["message"]) for line in lines] == [
        ("error", "Failed to export spans batch code: 500, reason: boom"),
        ("warn", "Transient error refused"),
        ("error", "Exception while exporting Span.: RuntimeError('kaput')"),
    ]
    assert lines[0]["logger"] == "opentelemetry.exporter.otlp.proto.http.trace_exporter"


def test_the_sdks_records_follow_the_log_level(json_lines: None, capsys: pytest.CaptureFixture[str]) -> None:
    sdk_log.install(_json_logger("error"))
    logging.getLogger("opentelemetry.sdk.trace").warning("Queue full, dropping %s.", "Span")
    assert capsys.readouterr().err == ""


def test_probes_and_scrapes_are_excluded_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EXCLUDED_URLS_VARIABLE, raising=False)
    default = excluded_urls()
    assert default is not None
    for url in ("http://h:8080/heartbeat", "http://h/status?x=1", "https://h/metrics/"):
        assert default.search(url), url
    for url in ("http://h/hello_world/greeting", "http://h/api/status", "http://h/metricsandreset"):
        assert not default.search(url), url


def test_the_excluded_urls_are_the_variables_regexes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXCLUDED_URLS_VARIABLE, " greeting$ , /swagger")
    excluded = excluded_urls()
    assert excluded is not None and excluded.search("http://h/hello_world/greeting")
    assert excluded.search("http://h/swagger/index.html") and not excluded.search("http://h/heartbeat")
    monkeypatch.setenv(EXCLUDED_URLS_VARIABLE, "")
    assert excluded_urls() is None  # set to nothing: every request is traced
    monkeypatch.setenv(EXCLUDED_URLS_VARIABLE, "ok,(")
    with pytest.raises(ValueError, match=re.escape("OTEL_PYTHON_EXCLUDED_URLS: '(' is not a regular expression")):
        excluded_urls()
