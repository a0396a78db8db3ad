"""The one home of this project's fixes for defects in the pinned Pip.Services libraries.

Each fix is a named function that cites the library version and the defect, and is used by every component
that needs it. test/test_LibraryWorkarounds.py checks that each defect is still there: the day an upgrade
fixes one, its test fails, and the workaround can be dropped knowingly.
"""

import json
import sys
from datetime import UTC, datetime
from typing import Any

import bottle
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.convert import JsonConverter
from pip_services3_commons.errors import ApplicationException, BadRequestException, ErrorDescriptionFactory
from pip_services3_commons.run import Parameters
from pip_services3_components.build import Factory
from pip_services3_components.count import CompositeCounters, CounterTiming, ICounters
from pip_services3_components.log import ConsoleLogger, DefaultLoggerFactory, ILogger, LogLevel, LogLevelConverter
from pip_services3_components.trace import ITracer, TraceTiming
from pip_services3_rpc.services import InstrumentTiming

# RestClient's timeouts, in milliseconds, when the configuration gives none.
DEFAULT_CONNECT_TIMEOUT_MS = 10_000
DEFAULT_TIMEOUT_MS = 10_000


def use_own_counters(counters: CompositeCounters) -> None:
    """Gives a component's CompositeCounters a list of counters of its own.

    pip_services3_components 3.5.9 declares `CompositeCounters._counters = []` at class level, so every
    instance appends to one shared list: with two RestServices and an endpoint in the container, every call
    was counted once per such component (6x). Call it in the component's constructor, on `self._counters`.
    """
    counters._counters = []


def client_timeouts(config: ConfigParams) -> tuple[float, float]:
    """The (connect, read) timeouts in seconds that RestClient must pass to `requests`.

    pip_services3_rpc 3.3.4 RestClient hands `options.timeout`, in milliseconds, to `requests`, which reads
    seconds (10 s became 2.8 hours), and ignores `options.connect_timeout`. A client sets `self._timeout` to
    this pair in `configure`; RestClient._call passes it on as `timeout`.
    """
    return (
        config.get_as_integer_with_default("options.connect_timeout", DEFAULT_CONNECT_TIMEOUT_MS) / 1000,
        config.get_as_integer_with_default("options.timeout", DEFAULT_TIMEOUT_MS) / 1000,
    )


def error_body(error: Exception) -> tuple[int, str]:
    """The HTTP status and JSON ErrorDescription of `error`, without the server's internals.

    pip_services3_rpc 3.3.4 RestService.send_error (HttpResponseSender.send_error) puts the server's stack
    trace and the error's cause into every error body sent to clients.
    """
    description = ErrorDescriptionFactory.create(error)
    description.stack_trace = None
    description.cause = None
    return description.status, JsonConverter.to_json(description)


def instrument(
    correlation_id: str | None, name: str, verb: str, logger: ILogger, counters: ICounters, tracer: ITracer
) -> InstrumentTiming:
    """Starts timing a call as RestService / RestClient / DirectClient `_instrument` do, for a timing whose
    `end_failure` tells a rejected request from a fault.

    `verb` is "exec" for a service (counters `<name>.exec_count`, `.exec_time`, `.exec_errors`) and "call"
    for a client (`.call_count`, `.call_time`, `.call_errors`). pip_services3_rpc 3.3.4 has two defects here:
    - InstrumentTiming.end_failure logs every failure at ERROR with its stack trace, so each request a client
      got wrong (a 4xx: a too long name...) put an ERROR and a stack into the server's log. Here a rejection
      (an ApplicationException with a 4xx status) is logged at INFO with its code and escaped message, and
      anything else at ERROR with its stack, as before; both are counted as errors.
    - RestService._instrument counts a service's failures as `<name>.call_errors`, which pip_services3_prometheus
      3.1.2 does not label (it knows `exec_errors` for services): here the error counter follows `verb`.
    A component overrides `_instrument` to return this.
    """
    logger.trace(correlation_id, "Executing %s method" if verb == "exec" else "Calling %s method", name)
    counters.increment_one(f"{name}.{verb}_count")
    return _RejectionAwareTiming(
        correlation_id,
        name,
        verb,
        logger,
        counters,
        counters.begin_timing(f"{name}.{verb}_time"),
        tracer.begin_trace(correlation_id, name, None),
    )


class _RejectionAwareTiming(InstrumentTiming):
    """An InstrumentTiming that logs failures itself (see `instrument`); the library's part only counts them."""

    def __init__(
        self,
        correlation_id: str | None,
        name: str,
        verb: str,
        logger: ILogger,
        counters: ICounters,
        counter_timing: CounterTiming,
        trace_timing: TraceTiming,
    ) -> None:
        super().__init__(correlation_id, name, verb, None, counters, counter_timing, trace_timing)
        self._correlation_id, self._name, self._logger = correlation_id, name, logger

    def end_failure(self, err: Exception) -> None:
        if self._logger is not None and err is not None:
            if isinstance(err, ApplicationException) and 400 <= (err.status or 0) < 500:
                self._logger.info(
                    self._correlation_id, "Rejected %s: %s %s", self._name, _escaped(err.code), _escaped(err.message)
                )
            else:
                self._logger.error(self._correlation_id, err, "Failed to call %s method", self._name)
        self._logger = None  # as the library's timing: a second end is not logged again
        super().end_failure(err)

    def end_success(self) -> None:
        self._logger = None
        super().end_success()


def _escaped(text: str | None) -> str:
    """`text` with line breaks, control and non-ASCII characters as Python escapes: it may carry what a client
    sent (a property name in a validation message) and must not forge or break a log line."""
    return (text or "").encode("unicode_escape").decode("ascii")


def read_json_object(correlation_id: str | None) -> dict[str, Any]:
    """The current request's body as the parameters of a command: one JSON object, or none for an empty body.

    pip_services3_rpc 3.3.4 RestService._get_data (which CommandableHttpService's handlers use) reads the body
    only when its Content-Type is application/json (else the parameters silently become {}), decodes a body that
    is a JSON string a second time, and takes a list or a number as parameters; a malformed body or a string that
    is not JSON became a 500. Here the body is read whatever its Content-Type, up to bottle's MEMFILE_MAX (the
    stock endpoint's only body limit; HelloWorldHttpEndpoint refuses larger bodies before), and anything but an
    object is a BadRequestException: INVALID_JSON, BODY_NOT_OBJECT, or BODY_TOO_LARGE with status 413.
    """
    limit = bottle.request.MEMFILE_MAX
    too_large = BadRequestException(correlation_id, "BODY_TOO_LARGE", f"Body is larger than {limit} bytes")
    if bottle.request.content_length > limit:
        raise too_large.with_status(413)
    body = bottle.request.body.read(limit + 1)
    if len(body) > limit:  # a chunked body has no Content-Length to check first
        raise too_large.with_status(413)
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        raise BadRequestException(correlation_id, "INVALID_JSON", "Body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequestException(correlation_id, "BODY_NOT_OBJECT", "Body must be a JSON object")
    return data


def command_parameters(body: dict[str, Any]) -> Parameters:
    """A command's Parameters holding exactly the keys of `body`.

    pip_services3_commons 3.3.14 Parameters.from_value (and its constructor) drop an empty key and split a
    dotted one into nested maps ({"": 1} became {}, {"a.b": 1} became {"a": {"b": 1}}), so a schema that rejects
    unexpected properties never saw them and {"": "x"} got the default greeting.
    """
    parameters = Parameters()
    parameters.update(body)
    return parameters


class UtcConsoleLogger(ConsoleLogger):
    """ConsoleLogger whose line times say they are UTC: `[id:INFO:2026-01-02T03:04:05.678901Z] message`.

    pip_services3_components 3.5.9 ConsoleLogger._write stamps `datetime.utcnow().isoformat()`, a UTC time
    with no zone, so a reader (or a log shipper) takes it for local time. The line is otherwise the stock one.
    """

    def _write(self, level: int, correlation_id: str | None, error: Exception | None, message: str | None) -> None:
        if self._level < level:
            return
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        line = f"[{correlation_id or '---'}:{LogLevelConverter.to_string(level)}:{stamp}] {message or ''}"
        if error is not None:
            line += (": " if message else "Error: ") + self._compose_error(error)
        (sys.stderr if LogLevel.Fatal <= level <= LogLevel.Warn else sys.stdout).write(line + "\n")


def utc_console_logger_factory() -> Factory:
    """A factory of UtcConsoleLogger for the stock console logger's descriptor (`pip-services:logger:console:*:1.0`).

    Added to a container after the library's factories, it is asked first, so config files keep the stock
    descriptor.
    """
    factory = Factory()
    factory.register_as_type(DefaultLoggerFactory.ConsoleLoggerDescriptor, UtcConsoleLogger)
    return factory
