"""The one home of this project's fixes for defects in the pinned Pip.Services libraries.

Each fix is a named function that cites the library version and the defect, and is used by every component
that needs it. test/test_LibraryWorkarounds.py checks that each defect is still there: the day an upgrade
fixes one, its test fails, and the workaround can be dropped knowingly.
"""

from pip_services3_commons.config import ConfigParams
from pip_services3_commons.convert import JsonConverter
from pip_services3_commons.errors import ApplicationException, ErrorDescriptionFactory
from pip_services3_components.count import CompositeCounters, CounterTiming, ICounters
from pip_services3_components.log import ILogger
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
