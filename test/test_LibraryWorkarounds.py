"""Each workaround in LibraryWorkarounds fixes a defect that is still in the pinned library.

These tests assert the defect itself: when an upgrade fixes one, its test fails, and the workaround
(and this test) can be dropped knowingly.
"""

import json

from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import BadRequestException
from pip_services3_components.count import CompositeCounters
from pip_services3_rpc.clients import RestClient
from pip_services3_rpc.services import HttpResponseSender

from LibraryWorkarounds import client_timeouts, error_body, use_own_counters


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
