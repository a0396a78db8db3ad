"""The one home of this project's fixes for defects in the pinned libraries (Pip.Services's and granian's).

Each fix is a named function that cites the library version and the defect, and is used by every component
that needs it. test/test_LibraryWorkarounds.py checks that each defect is still there: the day an upgrade
fixes one, its test fails, and the workaround can be dropped knowingly.
"""

import library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Collection
from itertools import accumulate
from typing import TYPE_CHECKING, Any, NoReturn, TypeGuard, overload

import bottle
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.convert import JsonConverter
from pip_services3_commons.errors import ApplicationException, BadRequestException, ErrorDescriptionFactory
from pip_services3_commons.refer import Descriptor, IReferences
from pip_services3_commons.run import Parameters
from pip_services3_components.build import Factory
from pip_services3_components.count import (
    CachedCounters,
    CompositeCounters,
    Counter,
    CounterType,
    ICounters,
    ICounterTimingCallback,
)
from pip_services3_components.log import (
    CompositeLogger,
    ConsoleLogger,
    DefaultLoggerFactory,
    ILogger,
    LogLevel,
    LogLevelConverter,
)
from pip_services3_components.trace import CompositeTracer, ITracer

from process.LogRateLimit import REJECTIONS
from process.LogWriter import log_line

LOGGER_LOCATOR = Descriptor("*", "logger", "*", "*", "1.0")
# RestClient's timeouts, in milliseconds, when the configuration gives none.
DEFAULT_CONNECT_TIMEOUT_MS = 10_000
DEFAULT_TIMEOUT_MS = 10_000
# What a command's body may hold (read_json_object): arrays and objects nested at most this deep (the body itself
# is level 1), and at most this many properties in any object. Commands take a few flat parameters.
MAX_BODY_DEPTH = 32
MAX_BODY_PROPERTIES = 16
# Characters of an error's message or of one of its details sent to a client, and of a text logged (escaped): they
# may quote what a client sent (an unexpected property's name), which must not come back or reach a log unbounded.
MAX_ERROR_TEXT = 300
# The rate-limited rejection lines: the summary, and the counter of those not written.
SUPPRESSED_REJECTIONS = "%d similar lines suppressed in the last second: Rejected %s"
SUPPRESSED_LINES_COUNTER = "log.suppressed_lines"


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
    """The HTTP status and JSON ErrorDescription of `error`, without the server's internals, its texts bounded.

    pip_services3_rpc 3.3.4 RestService.send_error (HttpResponseSender.send_error) puts the server's stack
    trace and the error's cause into every error body sent to clients. And pip_services3_commons 3.3.14
    ValidationException quotes every failed rule in its message and, as JSON, in its details (10,000 unexpected
    properties made a 2.7 MB answer): the message and each detail are cut to MAX_ERROR_TEXT characters (see bounded).
    """
    description = ErrorDescriptionFactory.create(error)
    description.stack_trace = None
    description.cause = None
    description.message = bounded(description.message)
    if description.details:
        description.details = {key: bounded(str(value)) for key, value in description.details.items()}
    return description.status, JsonConverter.to_json(description)


@overload
def bounded(text: str, limit: int = MAX_ERROR_TEXT) -> str: ...
@overload
def bounded(text: None, limit: int = MAX_ERROR_TEXT) -> None: ...
def bounded(text: str | None, limit: int = MAX_ERROR_TEXT) -> str | None:
    """`text` cut to `limit` characters, "…" marking a cut (within the limit), so that what a client sent cannot make
    an answer or a log line as long as it likes."""
    return text if text is None or len(text) <= limit else text[: limit - 1] + "…"


def instrument(
    correlation_id: str | None, name: str, verb: str, logger: ILogger, counters: ICounters, tracer: ITracer
) -> "InstrumentedCall":
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
    return InstrumentedCall(correlation_id, name, verb, logger, counters, tracer)


def is_rejection(error: BaseException) -> TypeGuard[ApplicationException]:
    """Whether `error` is a request's own mistake (an ApplicationException with a 4xx status), answered as its
    ErrorDescription and logged at INFO, rather than a fault (5xx, or any other exception), logged at ERROR."""
    return isinstance(error, ApplicationException) and 400 <= (error.status or 0) < 500


class InstrumentedCall:
    """One instrumented call: the counts, time, trace and log lines of pip_services3_rpc's InstrumentTiming (see
    `instrument` for the two defects it fixes), recorded with less work per call, since every request pays it:
    no trace line is formatted unless a logger writes trace (see LevelCheckingCompositeLogger), and the time is
    handed to the counters and tracers directly instead of through a CounterTiming and a TraceTiming object each.
    """

    __slots__ = ("_correlation_id", "_counter", "_counters", "_ended", "_logger", "_name", "_started", "_tracer")

    def __init__(
        self, correlation_id: str | None, name: str, verb: str, logger: ILogger, counters: ICounters, tracer: ITracer
    ) -> None:
        self._correlation_id, self._name, self._counter = correlation_id, name, f"{name}.{verb}"
        self._logger, self._counters, self._tracer = logger, counters, tracer
        if _writes(logger, LogLevel.Trace):
            logger.trace(correlation_id, "Executing %s method" if verb == "exec" else "Calling %s method", name)
        counters.increment_one(self._counter + "_count")
        self._started = time.perf_counter()
        self._ended = False

    def _end(self) -> float | None:
        """Records the call's time and returns it in milliseconds, the first time only: None after. The library's
        CommandableHttpClient.call_command ends a failed call's timing twice (end_failure, then end_timing in its
        `finally`), as InstrumentTiming's own guard allows."""
        if self._ended:
            return None
        self._ended = True
        elapsed = (time.perf_counter() - self._started) * 1000
        self._counters.end_timing(self._counter + "_time", elapsed)
        return elapsed

    def __enter__(self) -> "InstrumentedCall":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _traceback: object) -> None:
        """Ends the timing as the block ended: a success, or a failure (the exception then goes on)."""
        if error is None:
            self.end_success()
        elif isinstance(error, Exception):
            self.end_failure(error)

    def end_timing(self, error: Exception | None = None) -> None:
        """InstrumentTiming's own entry point, which the library's clients call."""
        if error is None:
            self.end_success()
        else:
            self.end_failure(error)

    def _component_and_operation(self) -> tuple[str, str]:
        """("v1/hello_world", "greeting") of "v1/hello_world.greeting": what ITracer.trace takes. pip_services3_rpc
        3.3.4 passes the whole name and None, on which pip_services3_components 3.5.9 LogTracer raises TypeError (it
        concatenates the operation): every client call failed once a LogTracer was configured."""
        component, _, operation = self._name.rpartition(".")
        return component, operation

    def end_success(self) -> None:
        elapsed = self._end()
        if elapsed is not None:
            self._tracer.trace(self._correlation_id, *self._component_and_operation(), elapsed)

    def end_failure(self, error: Exception) -> None:
        elapsed = self._end()
        if elapsed is None:
            return
        if is_rejection(error):
            self._log_rejection(error)
        else:
            self._logger.error(self._correlation_id, error, "Failed to call %s method", self._name)
        self._counters.increment_one(self._counter + "_errors")
        self._tracer.failure(self._correlation_id, *self._component_and_operation(), error, elapsed)

    def _log_rejection(self, error: ApplicationException) -> None:
        """Logs a rejection at INFO, at most LINES_PER_SECOND of a kind a second (see process/LogRateLimit.py); the
        others are counted in `log.suppressed_lines` and summarized in one line once their second is over."""
        kind = f"{self._name}: {_escaped(error.code)}"
        if REJECTIONS.admit(kind, lambda count: self._logger.info(None, SUPPRESSED_REJECTIONS, count, kind)):
            self._logger.info(self._correlation_id, "Rejected %s %s", kind, _escaped(error.message))
        else:
            self._counters.increment_one(SUPPRESSED_LINES_COUNTER)


def _writes(logger: ILogger, level: LogLevel) -> bool:
    """Whether a message of `level` would be written: a LevelCheckingCompositeLogger knows; any other logger is
    asked to format it and decide itself."""
    writes = getattr(logger, "writes", None)
    return writes is None or writes(level)


def _escaped(text: str | None) -> str:
    """`text` with line breaks, control and non-ASCII characters as Python escapes, at most MAX_ERROR_TEXT
    characters: it may carry what a client sent (a property name in a validation message) and must not forge, break
    or flood a log line. The escapes cover every line separator some reader splits on (U+0085, U+2028, U+2029 are
    non-ASCII, lone surrogates too)."""
    return bounded((text or "").encode("unicode_escape").decode("ascii"))


def read_json_object(
    correlation_id: str | None, parameters: Collection[str] = (), max_size: int | None = None
) -> dict[str, Any]:
    """The current request's body as the parameters of a command: one JSON object, or none for an empty body.

    pip_services3_rpc 3.3.4 RestService._get_data (which CommandableHttpService's handlers use) reads the body
    only when its Content-Type is application/json (else the parameters silently become {}), decodes a body that
    is a JSON string a second time, and takes a list or a number as parameters; a malformed body or a string that
    is not JSON became a 500. Here the body is read whatever its Content-Type, up to `max_size` bytes or bottle's
    MEMFILE_MAX, whichever is less (MEMFILE_MAX is the stock endpoint's only body limit; HelloWorldHttpEndpoint
    raises it to its own and refuses larger bodies before), and anything but an
    object is a BadRequestException: INVALID_JSON (not UTF-8 JSON), BODY_NOT_OBJECT, or BODY_TOO_LARGE with
    status 413. And the body is bounded before anything works on it (see json_object_pairs): BODY_TOO_DEEP,
    TOO_MANY_PROPERTIES, and <PARAMETER>_REPEATED for one of the command's `parameters` given twice in an object
    (NAME_REPEATED, as the REST route's query answers it), PROPERTY_REPEATED for any other key.
    """
    limit = bottle.request.MEMFILE_MAX if max_size is None else min(max_size, bottle.request.MEMFILE_MAX)
    too_large = BadRequestException(correlation_id, "BODY_TOO_LARGE", f"Body is larger than {limit} bytes")
    if bottle.request.content_length > limit:
        raise too_large.with_status(413)
    body = bottle.request.body.read(limit + 1)
    if len(body) > limit:  # a chunked body has no Content-Length to check first
        raise too_large.with_status(413)
    if not body.strip(JSON_WHITESPACE):
        return {}
    try:
        text = body.decode("utf-8")  # strictly: json.loads would take UTF-8's form of a surrogate ("surrogatepass")
    except UnicodeDecodeError:
        raise BadRequestException(correlation_id, "INVALID_JSON", "Body is not valid JSON") from None
    if json_depth(body) > MAX_BODY_DEPTH:
        raise BadRequestException(
            correlation_id, "BODY_TOO_DEEP", f"Body must nest arrays and objects at most {MAX_BODY_DEPTH} deep"
        )
    try:
        data = json.loads(text, object_pairs_hook=lambda pairs: json_object_pairs(pairs, parameters, correlation_id))
    except ValueError:
        raise BadRequestException(correlation_id, "INVALID_JSON", "Body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequestException(correlation_id, "BODY_NOT_OBJECT", "Body must be a JSON object")
    return data


# What JSON calls whitespace (RFC 8259): bytes.strip() would take a form feed or a vertical tab for it as well.
JSON_WHITESPACE = b" \t\n\r"

# A JSON string as far as it goes (to its closing quote, or to the end of an unterminated one), possessively: no
# backtracking, so a scan is linear whatever the body.
_JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\[\s\S][^"\\]*+)*+"?')
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(body: bytes) -> int:
    """How deep the arrays and objects of the UTF-8 JSON text `body` nest (0: a scalar, 1: `{}`), without parsing it.

    Python 3.11's json.loads (C scanner) recurses per level and raises RecursionError, not ValueError, past about
    1,000 levels (2 KB of "["): a 500 with a traceback; and a value nested a few hundred deep that it does parse can
    break what handles it next (validation, the error's details as JSON). For a text json.loads can parse, brackets
    outside strings are exactly its levels; any other text fails in json.loads no deeper than counted here.
    """
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def json_object_pairs(
    pairs: list[tuple[str, Any]], parameters: Collection[str], correlation_id: str | None
) -> dict[str, Any]:
    """json.loads' object_pairs_hook for a command's body: the object, refused when it has too many properties or
    one twice.

    json.loads keeps the last value of a repeated key ({"name": "a", "name": "b"} greeted "b", where the REST route
    refuses ?name=a&name=b), and pip_services3_commons 3.3.14 ObjectSchema validates every property of an object and
    quotes each unexpected one (10,000 of them cost about 1 s of the event loop), so an object with more than
    MAX_BODY_PROPERTIES properties is refused before any validation.
    """
    if len(pairs) > MAX_BODY_PROPERTIES:
        raise BadRequestException(
            correlation_id,
            "TOO_MANY_PROPERTIES",
            f"An object in the body may have at most {MAX_BODY_PROPERTIES} properties",
        )
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen and key in parameters:
            raise BadRequestException(
                correlation_id, f"{key.upper()}_REPEATED", f"Give the {key} parameter at most once"
            )
        if key in seen:
            raise BadRequestException(
                correlation_id, "PROPERTY_REPEATED", "Give each property of an object at most once"
            )
        seen.add(key)
    data = dict(pairs)
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
        line = log_line(correlation_id, LogLevelConverter.to_string(level), message or "")
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


class LevelCheckingCompositeLogger(CompositeLogger):
    """A CompositeLogger that formats a message only when one of its loggers will write its level.

    pip_services3_components 3.5.9 Logger formats every message (`message % args`) and hands it to each logger,
    which only then compares the level: the trace line RestService writes per call ("Executing ... method") and
    the endpoint's access log cost a formatted string per request that nobody writes. A component replaces its
    `self._logger` with this one in its constructor.
    """

    def __init__(self) -> None:
        super().__init__()
        self._destinations: list[ILogger] = []

    def set_references(self, references: IReferences) -> None:
        super().set_references(references)
        self._destinations = [
            logger for logger in references.get_optional(LOGGER_LOCATOR) if isinstance(logger, ILogger)
        ]

    def writes(self, level: LogLevel) -> bool:
        """Whether any referenced logger writes messages of `level` (their levels are read each time: they
        may change)."""
        # A loop, not any() over a generator (half the cost): this runs several times a request.
        for logger in self._destinations:  # noqa: SIM110
            if level <= logger.get_level():
                return True
        return False

    def _format_and_write(
        self,
        level: LogLevel,
        correlation_id: str | None,
        error: Exception | None,
        message: str,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        if self.writes(level):
            super()._format_and_write(level, correlation_id, error, message, *args, **kwargs)


def use_own_tracers(tracer: CompositeTracer) -> None:
    """Gives a component's CompositeTracer a list of tracers of its own.

    pip_services3_components 3.5.9 declares `CompositeTracer._TRACERS = []` at class level, the same defect as
    CompositeCounters (see use_own_counters): with a tracer configured, every call would be traced once per
    component that references it.
    """
    tracer._TRACERS = []


def repair_instrumentation(component: Any) -> None:
    """Applies the fixes above to a RestService, RestClient or DirectClient, in its constructor: lean counters
    with a list of their own, a tracers list of its own, and a logger that formats only what some logger writes."""
    component._counters = LeanCompositeCounters()
    use_own_tracers(component._tracer)
    component._logger = LevelCheckingCompositeLogger()


class LeanCompositeCounters(CompositeCounters):
    """A CompositeCounters whose per-call updates cost about a third as much, with the same values.

    pip_services3_components 3.5.9 CachedCounters takes its lock on every update to look its counter up, and again
    with a clock read only to learn whether its dump interval (minutes) has passed. Here a CachedCounters' counter
    is found in its cache without the lock (one dict read; a missing one is created by its public `get`, under the
    lock, so clear() and reset stay safe), updated directly, and each destination's `_update` (mark as updated,
    dump when due) runs at most every UPDATE_SECONDS. Destinations that are not CachedCounters are called as
    CompositeCounters calls them. Every count is exact at any moment; only dumps to the log may come up to
    UPDATE_SECONDS late.
    """

    UPDATE_SECONDS = 0.5

    def __init__(self) -> None:
        super().__init__()
        self._counters: list[ICounters] = []  # see use_own_counters
        self._cached: list[CachedCounters] = []
        self._others: list[ICounters] = []
        self._next_update = 0.0

    def set_references(self, references: IReferences) -> None:
        super().set_references(references)
        self._cached = [counters for counters in self._counters if isinstance(counters, CachedCounters)]
        self._others = [counters for counters in self._counters if not isinstance(counters, CachedCounters)]

    def increment_one(self, name: str) -> None:
        self.increment(name, 1)

    def increment(self, name: str, value: float) -> None:
        for destination in self._cached:
            counter = _cached_counter(destination, name, CounterType.Increment)
            counter.count = (counter.count or 0) + value
        for destination in self._others:
            destination.increment(name, value)
        self._mark_updated()

    def end_timing(self, name: str, elapsed: float) -> None:
        for destination in self._cached:
            _add_interval(_cached_counter(destination, name, CounterType.Interval), elapsed)
        for destination in self._others:
            if isinstance(destination, ICounterTimingCallback):
                destination.end_timing(name, elapsed)
        self._mark_updated()

    def _mark_updated(self) -> None:
        now = time.monotonic()
        if now >= self._next_update:
            self._next_update = now + self.UPDATE_SECONDS
            for destination in self._cached:
                destination._update()


def _cached_counter(counters: CachedCounters, name: str, kind: CounterType) -> Counter:
    """The counter `name` of `counters`, as its `get` returns it: read from its cache (one dict read, which needs
    no lock), created by `get` under its lock when missing or of another type."""
    counter = counters._cache.get(name)
    return counter if counter is not None and counter.type == kind else counters.get(name, kind)


def _add_interval(counter: Counter, value: float) -> None:
    """CachedCounters' statistics of an interval counter (its private __calculate_stats), for one more value."""
    count = (counter.count or 0) + 1
    counter.last = value
    if counter.max is None or value > counter.max:
        counter.max = value
    if counter.min is None or value < counter.min:
        counter.min = value
    counter.average = value if counter.average is None else (counter.average * (count - 1) + value) / count
    counter.count = count


def exit_at_once(code: int) -> NoReturn:
    """Ends the process with `code` once everything is closed, without Python's interpreter finalization.

    granian 2.8.7's Rust threads can outlive its embedded server's stop by a few milliseconds; when the
    interpreter finalizes meanwhile, such a thread panics ("panic in a function that cannot unwind") and the
    process aborts with status 134 instead of exiting 0 (about 1 stop in 7 on a busy machine). The container is
    closed and every component has released what it held before this is called; the standard streams are flushed
    here, as finalization would have done.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed or broken stream has nothing left to flush
            stream.flush()
    os._exit(code)


def skip_cheroot_version_lookup() -> None:
    """Keeps cheroot from importing pkg_resources; call it before anything imports pip_services3_rpc.services.

    cheroot 8.6.0 (pip_services3_rpc 3.3.4 requires cheroot<9 for its stock endpoint, which this service does not
    use) imports pkg_resources only to read its own version string: about 75 ms of startup and 10 MB of memory.
    A None entry in sys.modules makes that import fail, as Python documents; cheroot catches it and reports its
    version as "unknown". Nothing else here uses pkg_resources.
    """
    sys.modules.setdefault("pkg_resources", None)  # type: ignore[arg-type]  # as Python documents it


if TYPE_CHECKING:  # for the checker, the mixins below are what they mix into (at run time, the clients are not
    # imported: they bring `requests` into a service's process)
    from pip_services3_rpc.clients import RestClient as HttpClientBase
    from pip_services3_rpc.services import RestService as RestServiceBase
else:
    HttpClientBase = RestServiceBase = object


class RepairedHttpClient(HttpClientBase):
    """A mixin for a RestClient or CommandableHttpClient subclass (listed before it), bringing the fixes above:
    timeouts in seconds with the connect timeout honoured (client_timeouts) and the instrumentation fixes
    (repair_instrumentation, instrument). The client calls `_repair()` at the end of its constructor."""

    def _repair(self) -> None:
        self._timeout = client_timeouts(ConfigParams())
        repair_instrumentation(self)

    def configure(self, config: ConfigParams) -> None:
        """Reads the connection and the timeouts, in seconds as `requests` wants them (see client_timeouts)."""
        super().configure(config)
        self._timeout = client_timeouts(config)

    def _instrument(self, correlation_id: str | None, name: str) -> InstrumentedCall:
        """The library's timing, with the server's rejections logged at INFO, not ERROR (see instrument)."""
        return instrument(correlation_id, name, "call", self._logger, self._counters, self._tracer)


class RepairedRestService(RestServiceBase):
    """A mixin for a RestService or CommandableHttpService subclass (listed before it), bringing the fixes above
    (repair_instrumentation, instrument, error_body) and the endpoint's reading of the correlation id."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        repair_instrumentation(self)

    def set_references(self, references: IReferences) -> None:
        """Also hands the references to the service's tracer: pip_services3_rpc 3.3.4 RestService.set_references
        never does, so a tracer configured in config.yml (LogTracer) traced no call of any service."""
        super().set_references(references)
        self._tracer.set_references(references)

    def _get_correlation_id(self) -> str | None:
        """The correlation id as the service's endpoint read it.

        pip_services3_rpc 3.3.4's RestService._get_correlation_id reads the query and headers again itself instead
        of asking its endpoint (`get_correlation_id`, which the stock HttpEndpoint reads the same way): a service
        on HelloWorldHttpEndpoint then logged an id that endpoint had not checked, and read it twice per request.
        """
        correlation_id: str | None = self._endpoint.get_correlation_id()
        return correlation_id

    def _instrument(self, correlation_id: str | None, name: str) -> InstrumentedCall:
        """The library's timing, with rejections logged at INFO and failures counted as exec_errors (see instrument)."""
        return instrument(correlation_id, name, "exec", self._logger, self._counters, self._tracer)

    def _instrumented(self, name: str, call: Callable[[str | None], Any]) -> str | None:
        """Answers a request with `call(correlation_id)`, timed and counted as `name`: its result as JSON; a
        rejection (is_rejection) as its ErrorDescription; any other failure, counted and logged, goes on to the
        endpoint, which answers it as an internal error. Every route of every service answers through here."""
        correlation_id = self._get_correlation_id()
        try:
            with self._instrument(correlation_id, name):
                result = call(correlation_id)
        except ApplicationException as error:
            if not is_rejection(error):
                raise
            return self.send_error(error)
        return self.send_result(result)

    def send_error(self, error: Exception) -> str:
        """Sends the error as a Pip.Services ErrorDescription without the server's internals (see error_body)."""
        bottle.response.status, body = error_body(error)
        bottle.response.content_type = "application/json"
        return body

    def send_result(self, result: Any) -> str | None:
        """As pip_services3_rpc 3.3.4 RestService.send_result (200 with the JSON result, 204 for None), for less when
        the result is a string, as a greeting is: HttpResponseSender builds a JSONEncoder on every call (json.dumps
        with `default=`, which a string never needs) and a view of the headers to set one."""
        if type(result) is not str:
            answer: str | None = super().send_result(result)
            return answer
        bottle.response.set_header("Content-Type", "application/json")
        bottle.response.status = 200
        return json.dumps(result)
