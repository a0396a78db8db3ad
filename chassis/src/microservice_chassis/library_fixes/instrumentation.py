"""The timing, counting, tracing and logging of each service and client call (pip_services3_rpc 3.3.4's
InstrumentTiming and `_instrument`): rejections told from faults, one ending per call, tracers and counters of
the component's own, no message formatted that no logger writes."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from microservice_chassis.library_fixes.counters import LeanCompositeCounters
from microservice_chassis.library_fixes.loggers import LevelCheckingCompositeLogger

import time
from typing import Any, TypeGuard

from pip_services3_commons.errors import ApplicationException
from pip_services3_components.count import ICounters
from pip_services3_components.log import ILogger, LogLevel
from pip_services3_components.trace import CompositeTracer, ITracer

from microservice_chassis.log.client_text import printable
from microservice_chassis.log.rate_limit import REJECTIONS

# The rate-limited rejection lines: the summary, and the counter of those not written.
SUPPRESSED_REJECTIONS = "%d similar lines suppressed in the last second: Rejected %s"
SUPPRESSED_LINES_COUNTER = "log.suppressed_lines"


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
        """("v1/orders", "greeting") of "v1/orders.get_order": what ITracer.trace takes. pip_services3_rpc
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
        """Logs a rejection at INFO, at most LINES_PER_SECOND of a kind a second (see log/rate_limit.py); the
        others are counted in `log.suppressed_lines` and summarized in one line once their second is over."""
        kind = f"{self._name}: {printable(error.code or '')}"
        if REJECTIONS.admit(kind, lambda count: self._logger.info(None, SUPPRESSED_REJECTIONS, count, kind)):
            self._logger.info(self._correlation_id, "Rejected %s %s", kind, printable(error.message or ""))
        else:
            self._counters.increment_one(SUPPRESSED_LINES_COUNTER)


def _writes(logger: ILogger, level: LogLevel) -> bool:
    """Whether a message of `level` would be written: a LevelCheckingCompositeLogger knows; any other logger is
    asked to format it and decide itself."""
    writes = getattr(logger, "writes", None)
    return writes is None or writes(level)


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
