"""Each fix in library_fixes/ (and commandable_http_service/body_policy.py) fixes a defect that is still in the
pinned library.

These tests assert the defect itself: when an upgrade fixes one, its test fails, and the workaround
(and this test) can be dropped knowingly.
"""

from microservice_chassis.library_fixes.clients import client_timeouts
from microservice_chassis.library_fixes.counters import (
    JsonLogCounters,
    LeanCompositeCounters,
    log_counters_factory,
    use_own_counters,
)
from microservice_chassis.library_fixes.error_bodies import error_description, error_json
from microservice_chassis.library_fixes.instrumentation import instrument, use_own_tracers
from microservice_chassis.library_fixes.loggers import (
    LevelCheckingCompositeLogger,
    UtcConsoleLogger,
    utc_console_logger_factory,
)
from microservice_chassis.library_fixes.otlp_transport import CertificateKeepingSession

import importlib.util
import inspect
import io
import json
import re
import subprocess
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import cast

import bottle
import certifi
import pytest
from microservice_chassis.http.endpoint import GranianHttpEndpoint
from microservice_chassis.http.rsgi_bridge import CORRELATION_ID_KEY
from microservice_chassis.log.client_text import MAX_CLIENT_TEXT
from microservice_chassis.services.body_policy import (
    MAX_BODY_DEPTH,
    MAX_BODY_PROPERTIES,
    command_parameters,
    json_depth,
    read_json_object,
)
from microservice_chassis.testing import http_server, self_signed_certificate
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.convert import JsonConverter
from pip_services3_commons.errors import BadRequestException, InvocationException
from pip_services3_commons.refer import Descriptor, References
from pip_services3_commons.run import Parameters
from pip_services3_commons.validate import ValidationResult, ValueComparisonRule
from pip_services3_components.count import CompositeCounters, LogCounters
from pip_services3_components.log import CompositeLogger, ConsoleLogger, DefaultLoggerFactory, LogLevel
from pip_services3_components.trace import CompositeTracer, LogTracer, NullTracer
from pip_services3_rpc.clients import RestClient
from pip_services3_rpc.services import HeartbeatRestService, HttpResponseSender, InstrumentTiming, RestService

from doubles import RepairedService


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
    description = error_description(BadRequestException("c1", "NOPE", "nope").with_cause(ValueError("inner")))
    status, body = description.status, error_json(description)
    parsed = json.loads(body)
    assert status == 400
    assert parsed["code"] == "NOPE" and parsed["correlation_id"] == "c1"
    assert parsed.get("stack_trace") is None and parsed.get("cause") is None


def console_logger() -> ConsoleLogger:
    logger = ConsoleLogger()
    logger.set_level(LogLevel.Trace)
    return logger


def test_instrument_timing_still_logs_a_rejection_at_error_with_its_stack(capsys: pytest.CaptureFixture[str]) -> None:
    timing = InstrumentTiming("c1", "svc.op", "call", console_logger(), LogCounters(), None, None)
    timing.end_failure(BadRequestException("c1", "NOPE", "nope"))
    assert "[c1:ERROR:" in capsys.readouterr().err


def test_rest_service_still_counts_its_errors_as_call_errors() -> None:
    service, counters = HeartbeatRestService(), LogCounters()  # a concrete RestService
    use_own_counters(service._counters)
    service.set_references(References.from_tuples(Descriptor("pip-services", "counters", "log", "a", "1.0"), counters))
    service._instrument(None, "svc.op").end_failure(ValueError("boom"))
    assert {c.name for c in counters.get_all()} >= {"svc.op.exec_count", "svc.op.call_errors"}


@pytest.mark.parametrize("verb", ["exec", "call"])
def test_instrument_counts_calls_and_errors_under_its_verb(verb: str) -> None:
    counters = LogCounters()
    for error in (None, BadRequestException(None, "NOPE", "nope"), InvocationException(None, "DOWN", "down")):
        timing = instrument(None, "svc.op", verb, console_logger(), counters, NullTracer())
        timing.end_success() if error is None else timing.end_failure(error)
    counts = {c.name: c.count for c in counters.get_all()}
    assert counts[f"svc.op.{verb}_count"] == 3
    assert counts[f"svc.op.{verb}_errors"] == 2
    assert counts[f"svc.op.{verb}_time"] == 3


def test_instrument_logs_a_rejection_at_info_escaped_and_a_fault_at_error(capsys: pytest.CaptureFixture[str]) -> None:
    instrument("c2", "svc.op", "exec", console_logger(), LogCounters(), NullTracer()).end_failure(
        BadRequestException("c2", "NOPE", "bad property x\n[c2:ERROR:forged]")
    )
    instrument("c3", "svc.op", "exec", console_logger(), LogCounters(), NullTracer()).end_failure(ValueError("boom"))
    output = capsys.readouterr()
    assert "[c2:INFO:" in output.out and "Rejected svc.op: NOPE bad property x\\x0a[c2:ERROR:forged]" in output.out
    assert "[c2:ERROR" not in output.err
    assert "[c3:ERROR:" in output.err and "Failed to call svc.op method: boom" in output.err


@pytest.fixture(autouse=True)
def bottle_body_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """bottle's own body limit (100 KiB), whatever an endpoint opened by an earlier test set it to (the endpoint
    raises the class attribute to its own limit)."""
    monkeypatch.setattr(bottle.BaseRequest, "MEMFILE_MAX", 102_400)


def bind_request(body: bytes, content_type: str = "application/json") -> None:
    """Makes `body` the current bottle request, as an endpoint does for each request it serves."""
    bottle.request.bind(
        {"REQUEST_METHOD": "POST", "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body)),
         "wsgi.input": io.BytesIO(body)}
    )  # fmt: skip


def test_rest_service_still_decodes_a_json_string_body_again_and_takes_a_list() -> None:
    bind_request(json.dumps(json.dumps({"name": "John"})).encode())
    assert HeartbeatRestService()._get_data() == {"name": "John"}
    bind_request(b'["John"]')
    assert HeartbeatRestService()._get_data() == ["John"]
    bind_request(b'{"name": "John"}', "text/plain")
    assert HeartbeatRestService()._get_data() == {}


@pytest.mark.parametrize(
    ("body", "code"),
    [(b'"{\\"name\\": 1}"', "BODY_NOT_OBJECT"), (b"[1]", "BODY_NOT_OBJECT"), (b"null", "BODY_NOT_OBJECT"),
     (b"{", "INVALID_JSON"), (b"\xff", "INVALID_JSON")],
)  # fmt: skip
def test_read_json_object_takes_only_an_object(body: bytes, code: str) -> None:
    bind_request(body)
    with pytest.raises(BadRequestException) as raised:
        read_json_object("c4")
    assert (raised.value.code, raised.value.status, raised.value.correlation_id) == (code, 400, "c4")


def test_read_json_object_reads_any_content_type_and_an_empty_body_as_no_parameters() -> None:
    bind_request(b'{"name": "John"}', "text/plain")
    assert read_json_object(None) == {"name": "John"}
    bind_request(b"")
    assert read_json_object(None) == {}


def test_read_json_object_refuses_a_body_above_bottles_limit_with_413() -> None:
    bind_request(b" " * (bottle.BaseRequest.MEMFILE_MAX + 1))
    with pytest.raises(BadRequestException) as raised:
        read_json_object(None)
    assert (raised.value.code, raised.value.status) == ("BODY_TOO_LARGE", 413)


def test_json_loads_still_raises_recursion_error_for_a_deep_body() -> None:
    """Not a ValueError: read_json_object answered it as a 500."""
    with pytest.raises(RecursionError):
        json.loads("[" * 100_000 + "]" * 100_000)


def test_json_loads_still_keeps_the_last_of_repeated_keys_and_takes_utf8_surrogates() -> None:
    assert json.loads('{"name": "a", "name": "b"}') == {"name": "b"}
    assert json.loads(b'"\xed\xa0\x80"') == "\ud800"


@pytest.mark.parametrize(
    ("body", "depth"),
    [(b"1", 0), (b'"[{"', 0), (b"{}", 1), (b'{"a": [[1], {"b": "]]]"}]}', 3), (b'["\\"[[", [[]]]', 3),
     (b"[" * 100_000, 100_000), (b'["\\\"' * 1000, 1), (b'"\\' * 50_000 + b"[[", 0)],
)  # fmt: skip
def test_json_depth_counts_the_levels_outside_strings(body: bytes, depth: int) -> None:
    """The last two: escaped quotes and an unterminated string, scanned once (a backtracking scan took minutes)."""
    assert json_depth(body) == depth


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"[" * MAX_BODY_DEPTH + b"]" * MAX_BODY_DEPTH, "BODY_NOT_OBJECT"),  # as deep as allowed
        (b"[" * (MAX_BODY_DEPTH + 1) + b"]" * (MAX_BODY_DEPTH + 1), "BODY_TOO_DEEP"),
        (b"[" * 100_000, "BODY_TOO_DEEP"),
        (b'{"name": "a", "name": "b"}', "NAME_REPEATED"),
        (b'{"x": {"x": 1, "x": 1}}', "PROPERTY_REPEATED"),
        (json.dumps({"a": {f"k{i}": 1 for i in range(MAX_BODY_PROPERTIES + 1)}}).encode(), "TOO_MANY_PROPERTIES"),
        (b'{"name": "\xed\xa0\x80"}', "INVALID_JSON"),
    ],
)
def test_read_json_object_bounds_the_body_before_anything_works_on_it(body: bytes, code: str) -> None:
    bind_request(body)
    with pytest.raises(BadRequestException) as raised:
        read_json_object("c5", {"name"})
    assert (raised.value.code, raised.value.status, raised.value.correlation_id) == (code, 400, "c5")


def test_read_json_object_takes_the_most_properties_it_allows() -> None:
    body = {f"k{i}": 1 for i in range(MAX_BODY_PROPERTIES)}
    bind_request(json.dumps(body).encode())
    assert read_json_object(None, {"name"}) == body


def test_error_body_and_log_lines_bound_what_a_client_sent(capsys: pytest.CaptureFixture[str]) -> None:
    error = BadRequestException("c6", "INVALID_DATA", "unexpected property " + "k" * 90_000).with_details(
        "results", "[" + "x" * 90_000 + "]"
    )
    description = error_description(error)
    status, body = description.status, error_json(description)
    parsed = json.loads(body)
    assert status == 400 and len(body) < 1000
    assert parsed["message"].startswith("unexpected property kkk") and parsed["message"].endswith("…")
    assert len(parsed["message"]) == len(parsed["details"]["results"]) == MAX_CLIENT_TEXT
    instrument("c6", "svc.op", "exec", console_logger(), LogCounters(), NullTracer()).end_failure(error)
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "Rejected svc.op" in line]
    assert len(line) < 500


def test_a_rejection_is_logged_with_the_one_escaping_policy(capsys: pytest.CaptureFixture[str]) -> None:
    """What a client sent is escaped in a rejection line as in the access log (process/LogText.printable): line
    breaks and separators as escapes, letters such as "é" kept."""
    error = BadRequestException("c7", "BAD\nCODE", "José\u2028x\ny")
    instrument("c7", "svc.op", "exec", console_logger(), LogCounters(), NullTracer()).end_failure(error)
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "Rejected svc.op" in line]
    assert line.endswith("Rejected svc.op: BAD\\x0aCODE José\\u2028x\\x0ay")


def test_parameters_still_drop_an_empty_key_and_split_a_dotted_one() -> None:
    assert dict(Parameters.from_value({"": 1, "a.b": 2})) == {"a": {"b": 2}}


def test_command_parameters_keep_the_keys_as_sent() -> None:
    assert dict(command_parameters({"": 1, "a.b": 2, "name": "x"})) == {"": 1, "a.b": 2, "name": "x"}


LOG_LINE = re.compile(r"\[c1:INFO:(?P<stamp>[^\]]+)\] hello\n")


def test_stock_console_logger_still_writes_times_without_a_zone(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleLogger().info("c1", "hello")
    stamp = cast(re.Match[str], LOG_LINE.fullmatch(capsys.readouterr().out)).group("stamp")
    assert datetime.fromisoformat(stamp).tzinfo is None


def test_utc_console_logger_marks_its_times_utc(capsys: pytest.CaptureFixture[str]) -> None:
    logger = utc_console_logger_factory().create(DefaultLoggerFactory.ConsoleLoggerDescriptor)
    assert isinstance(logger, UtcConsoleLogger)
    logger.info("c1", "hello")
    logger.error("c2", ValueError("bad"), "failed")
    out, err = capsys.readouterr()
    stamp = cast(re.Match[str], LOG_LINE.fullmatch(out)).group("stamp")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp)
    assert abs((datetime.fromisoformat(stamp) - datetime.now(UTC)).total_seconds()) < 60
    assert re.fullmatch(r"\[c2:ERROR:[^\]]+Z\] failed: bad.*\n", err, re.S)


def counters_logged(counters: LogCounters, capsys: pytest.CaptureFixture[str]) -> str:
    """What `counters` write to a console logger for one increment of `svc.op.exec_count`."""
    counters.set_references(References.from_tuples(DefaultLoggerFactory.ConsoleLoggerDescriptor, UtcConsoleLogger()))
    counters.increment("svc.op.exec_count", 1)
    counters.dump()
    return capsys.readouterr().out


def test_stock_log_counters_still_write_the_type_as_python_s_enum(capsys: pytest.CaptureFixture[str]) -> None:
    assert 'Counter svc.op.exec_count { "type": CounterType.Increment, "count": 1 }' in counters_logged(
        LogCounters(), capsys
    )


def test_stock_log_counters_still_share_their_logger_between_instances() -> None:
    assert LogCounters()._LogCounters__logger is LogCounters()._LogCounters__logger


def test_json_log_counters_write_their_values_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    counters = log_counters_factory().create(Descriptor("pip-services", "counters", "log", "default", "1.0"))
    assert isinstance(counters, JsonLogCounters)
    line = counters_logged(counters, capsys)
    assert re.fullmatch(r"\[counters:INFO:[^\]]+Z\] Counter svc.op.exec_count (?P<values>\{.*\})\n", line)
    assert json.loads(line.partition("exec_count ")[2]) == {"type": "increment", "count": 1}


def test_composite_tracer_still_shares_one_list_between_instances() -> None:
    assert CompositeTracer()._TRACERS is CompositeTracer()._TRACERS


def test_use_own_tracers_separates_the_lists() -> None:
    first, second = CompositeTracer(), CompositeTracer()
    use_own_tracers(first)
    assert first._TRACERS is not second._TRACERS


class FormattingSpy:
    """Counts how often a log message that quotes it is formatted."""

    def __init__(self) -> None:
        self.formatted = 0

    def __str__(self) -> str:
        self.formatted += 1
        return "spy"


def logger_references(level: str) -> References:
    console = ConsoleLogger()
    console.configure(ConfigParams.from_tuples("level", level))
    return References.from_tuples(Descriptor("pip-services", "logger", "console", "default", "1.0"), console)


def test_composite_logger_still_formats_lines_no_logger_writes() -> None:
    stock, spy = CompositeLogger(), FormattingSpy()
    stock.set_references(logger_references("info"))
    stock.trace(None, "%s", spy)
    assert spy.formatted > 0


def test_level_checking_logger_formats_only_what_a_logger_writes(capsys: pytest.CaptureFixture[str]) -> None:
    logger, spy = LevelCheckingCompositeLogger(), FormattingSpy()
    logger.set_references(logger_references("info"))
    logger.trace(None, "%s", spy)
    logger.debug(None, "%s", spy)
    assert spy.formatted == 0 and not logger.writes(LogLevel.Debug) and logger.writes(LogLevel.Info)
    logger.info(None, "%s", spy)
    assert spy.formatted == 1 and "spy" in capsys.readouterr().out


COUNTERS = Descriptor("pip-services", "counters", "log", "default", "1.0")


def test_lean_counters_hold_the_same_values_as_the_library_counters() -> None:
    stock, lean = LogCounters(), LogCounters()
    stock_composite, lean_composite = CompositeCounters(), LeanCompositeCounters()
    use_own_counters(stock_composite)
    stock_composite.set_references(
        References.from_tuples(Descriptor("pip-services", "counters", "log", "a", "1.0"), stock)
    )
    lean_composite.set_references(
        References.from_tuples(Descriptor("pip-services", "counters", "log", "b", "1.0"), lean)
    )
    for composite, counters in ((stock_composite, stock), (lean_composite, lean)):
        for elapsed in (5.0, 1.0, 9.0):
            composite.increment_one("op.exec_count")
            composite.end_timing("op.exec_time", elapsed)
        composite.increment("op.exec_errors", 2)
        counters.clear("op.exec_count")  # the next update starts it again, in either
        composite.increment_one("op.exec_count")
        composite.end_timing("op.exec_count", 3.0)  # the same name as another type: a new counter, in either
    assert [vars(c) for c in lean.get_all()] == [vars(c) for c in stock.get_all()]


def test_lean_counters_still_dump_to_the_log(capsys: pytest.CaptureFixture[str]) -> None:
    log_counters, lean = LogCounters(), LeanCompositeCounters()
    log_counters.set_references(logger_references("info"))
    log_counters.configure(ConfigParams.from_tuples("interval", 0))
    lean.set_references(References.from_tuples(COUNTERS, log_counters))
    lean.increment_one("op.exec_count")
    assert "op.exec_count" in capsys.readouterr().out


def test_cheroot_still_imports_pkg_resources_for_its_version() -> None:
    source = (Path(cast(str, cast(ModuleSpec, importlib.util.find_spec("cheroot")).origin))).read_text()
    assert "import pkg_resources" in source and "get_distribution('cheroot')" in source


def test_skip_cheroot_version_lookup_keeps_pkg_resources_out() -> None:
    probe = (
        "import sys; from microservice_chassis.library_fixes.process_exit import skip_cheroot_version_lookup; "
        "skip_cheroot_version_lookup(); "
        "import pip_services3_rpc.services, cheroot; print(sys.modules['pkg_resources'], cheroot.__version__)"
    )
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert output.stdout.split() == ["None", "unknown"]


def test_rest_service_still_reads_the_correlation_id_itself_not_from_its_endpoint() -> None:
    service = HeartbeatRestService()
    service._endpoint = GranianHttpEndpoint()
    bottle.request.bind({"QUERY_STRING": "correlation%5Fid=raw", CORRELATION_ID_KEY: "checked"})
    assert service._get_correlation_id() == "raw"


def test_repaired_rest_service_takes_the_correlation_id_its_endpoint_read() -> None:
    service = RepairedService()
    service._endpoint = GranianHttpEndpoint()
    bottle.request.bind({"QUERY_STRING": "correlation%5Fid=raw", CORRELATION_ID_KEY: "checked"})
    assert service._get_correlation_id() == "checked"


def test_json_converter_still_builds_an_encoder_per_call() -> None:
    source = inspect.getsource(JsonConverter.to_json)
    assert "json.dumps(value, default=" in source


@pytest.mark.parametrize("result", ["Hello, John!", 'Grüße\n\u2028"', "", None, {"a": [1]}, 3, datetime(2026, 1, 1)])
def test_repaired_send_result_answers_as_the_library_does(result: object) -> None:
    answers = []
    for send_result in (HeartbeatRestService().send_result, RepairedService().send_result):
        bottle.response.bind()
        body = send_result(result)
        answers.append((body, bottle.response.status_code, bottle.response.content_type))
    assert answers[0] == answers[1]


def tracer_references() -> References:
    """A console logger at trace and the library's LogTracer, as config.yml would configure them."""
    tracer = LogTracer()
    references = References.from_tuples(
        Descriptor("pip-services", "logger", "console", "default", "1.0"), console_logger(),
        Descriptor("pip-services", "tracer", "log", "default", "1.0"), tracer,
    )  # fmt: skip
    tracer.set_references(references)
    return references


def test_log_tracer_still_fails_on_the_name_and_none_the_library_passes() -> None:
    """pip_services3_rpc 3.3.4 traces (name, None); pip_services3_components 3.5.9 LogTracer concatenates None."""
    tracer = CompositeTracer()
    use_own_tracers(tracer)  # not the list every CompositeTracer shares: the library's services would trace too
    tracer.set_references(tracer_references())
    with pytest.raises(TypeError, match="concatenate"):
        tracer.trace("c1", "v1/orders.get_order", None, 1.0)


def test_rest_service_still_leaves_its_tracer_without_references() -> None:
    """pip_services3_rpc 3.3.4 RestService.set_references references its logger and counters, not its tracer."""

    class BareService(RestService):
        def register(self) -> None:
            pass

    service = BareService()
    use_own_tracers(service._tracer)  # the list is shared by every CompositeTracer (see above)
    service.set_references(tracer_references())
    assert service._tracer._TRACERS == []


def test_instrumented_calls_are_traced_by_a_log_tracer(capsys: pytest.CaptureFixture[str]) -> None:
    tracer = CompositeTracer()
    use_own_tracers(tracer)
    tracer.set_references(tracer_references())
    instrument("c1", "v1/orders.get_order", "call", CompositeLogger(), LogCounters(), tracer).end_success()
    # LogTracer 3.5.9 has no `failure` of its own (ITracer's does nothing): the failure is logged by the instrument.
    instrument("c2", "orders.get_order", "exec", CompositeLogger(), LogCounters(), tracer).end_failure(
        BadRequestException("c2", "NOPE", "nope")
    )
    output = capsys.readouterr()
    assert re.search(r"^\[c1:DEBUG:.*\] Executed v1/orders\.get_order in [\d.]+ msec$", output.out, re.M)


def test_repaired_services_hand_their_references_to_their_tracer() -> None:
    service = RepairedService()
    service.set_references(tracer_references())
    assert len(service._tracer._TRACERS) == 1


def test_rest_client_still_sends_the_one_headers_dict_of_the_client_on_every_call() -> None:
    """pip_services3_rpc 3.3.4 RestClient._call takes no headers of its own and sends the client's `_headers`, a
    dict it even writes each call's correlation id into: a header added for one call is sent by every later call,
    on any thread. TracedHttpClient (tracing/client_spans.py) gives each traced call a dict of its own."""
    assert "headers" not in inspect.signature(RestClient._call).parameters
    received: list[dict[str, str]] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            received.append(dict(self.headers))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b'"ok"')

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Recorder) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        client = RestClient()
        client.configure(
            ConfigParams.from_tuples(
                "connection.protocol", "http", "connection.host", "127.0.0.1",
                "connection.port", server.server_address[1], "options.correlation_id_place", "headers",
            )
        )  # fmt: skip
        client.open(None)
        client._headers["x-one-call"] = "1"
        assert client._call("get", "/first", "c1") == "ok"
        assert client._call("get", "/second", "c2") == "ok"
        server.shutdown()
    assert received[1]["x-one-call"] == "1"  # sent again: no call has headers of its own
    assert client._headers["correlation_id"] == "c2"  # the client's dict, written by each call


def test_canary_value_comparison_rule_compares_another_type_through_not_implemented() -> None:
    """pip_services3_commons 3.3.14: ValueComparisonRule(">=", 1) on "2" puts ObjectComparator's NotImplemented in a
    boolean context, a TypeError from Python 3.14 on (a 500): StrictCommand checks the JSON types before the rules."""
    rule, results = ValueComparisonRule(">=", 1), list[ValidationResult]()
    if sys.version_info >= (3, 14):
        with pytest.raises(TypeError, match="NotImplemented"):
            rule.validate("times", None, "2", results)
    else:
        with pytest.warns(DeprecationWarning, match="NotImplemented"):
            rule.validate("times", None, "2", results)


def test_the_otlp_exporter_still_lets_requests_ca_bundle_override_its_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """opentelemetry-exporter-http-transport 0.66b2 makes the certificate given its Session's `verify`, which requests
    lets REQUESTS_CA_BUNDLE override: a collector with a CA of its own is refused. CertificateKeepingSession
    (library_fixes/otlp_transport.py) passes it with each request."""
    certificate = self_signed_certificate(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    received: list[str] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            received.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    finished = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(finished))
    provider.get_tracer("canary").start_span("one").end()
    spans = finished.get_finished_spans()
    with http_server(Collector, certificate) as url:
        endpoint, ca = f"{url}/v1/traces", str(certificate.cert)
        stock = OTLPSpanExporter(endpoint, certificate_file=ca, timeout=1)
        fixed = OTLPSpanExporter(endpoint, certificate_file=ca, timeout=1, session=CertificateKeepingSession())
        assert stock.export(spans) == SpanExportResult.FAILURE  # the defect
        assert fixed.export(spans) == SpanExportResult.SUCCESS
    assert received == ["/v1/traces"]
