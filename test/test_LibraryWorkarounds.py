"""Each workaround in LibraryWorkarounds fixes a defect that is still in the pinned library.

These tests assert the defect itself: when an upgrade fixes one, its test fails, and the workaround
(and this test) can be dropped knowingly.
"""

import json
import re
from datetime import UTC, datetime

import pytest
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import BadRequestException
from pip_services3_components.count import CompositeCounters
from pip_services3_components.log import ConsoleLogger, DefaultLoggerFactory
from pip_services3_rpc.clients import RestClient
from pip_services3_rpc.services import HttpResponseSender

from LibraryWorkarounds import (
    UtcConsoleLogger,
    client_timeouts,
    error_body,
    use_own_counters,
    utc_console_logger_factory,
)


def test_composite_counters_still_share_one_list_between_instances() -> None:
    assert CompositeCounters()._counters is CompositeCounters()._counters


def test_use_own_counters_separates_the_lists() -> None:
    first, second = CompositeCounters(), CompositeCounters()
    use_own_counters(first)
    assert first._counters is not second._counters


def test_rest_client_still_keeps_timeouts_in_milliseconds_for_requests() -> None:
    client = RestClient()
    client.configure(ConfigParams.from_tuples("options.timeout", 10_000))
    assert client._timeout == 10_000  # handed to requests, which reads seconds


def test_client_timeouts_are_seconds_with_the_connect_timeout_honoured() -> None:
    config = ConfigParams.from_tuples("options.connect_timeout", 1500, "options.timeout", 250)
    assert client_timeouts(config) == (1.5, 0.25)
    assert client_timeouts(ConfigParams()) == (10.0, 10.0)


def test_stock_send_error_still_sends_the_stack_trace() -> None:
    body = json.loads(HttpResponseSender.send_error(BadRequestException(None, "NOPE", "nope")))
    assert body["stack_trace"]


def test_error_body_has_status_and_code_without_stack_trace_or_cause() -> None:
    status, body = error_body(BadRequestException("c1", "NOPE", "nope").with_cause(ValueError("inner")))
    parsed = json.loads(body)
    assert status == 400
    assert parsed["code"] == "NOPE" and parsed["correlation_id"] == "c1"
    assert parsed.get("stack_trace") is None and parsed.get("cause") is None


LOG_LINE = re.compile(r"\[c1:INFO:(?P<stamp>[^\]]+)\] hello\n")


def test_stock_console_logger_still_writes_times_without_a_zone(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleLogger().info("c1", "hello")
    stamp = LOG_LINE.fullmatch(capsys.readouterr().out).group("stamp")
    assert datetime.fromisoformat(stamp).tzinfo is None


def test_utc_console_logger_marks_its_times_utc(capsys: pytest.CaptureFixture[str]) -> None:
    logger = utc_console_logger_factory().create(DefaultLoggerFactory.ConsoleLoggerDescriptor)
    assert isinstance(logger, UtcConsoleLogger)
    logger.info("c1", "hello")
    logger.error("c2", ValueError("bad"), "failed")
    out, err = capsys.readouterr()
    stamp = LOG_LINE.fullmatch(out).group("stamp")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp)
    assert abs((datetime.fromisoformat(stamp) - datetime.now(UTC)).total_seconds()) < 60
    assert re.fullmatch(r"\[c2:ERROR:[^\]]+Z\] failed: bad.*\n", err, re.S)
