"""The one home of this project's fixes for defects in the pinned Pip.Services libraries.

Each fix is a named function that cites the library version and the defect, and is used by every component
that needs it. test/test_LibraryWorkarounds.py checks that each defect is still there: the day an upgrade
fixes one, its test fails, and the workaround can be dropped knowingly.
"""

import sys
from datetime import UTC, datetime

from pip_services3_commons.config import ConfigParams
from pip_services3_commons.convert import JsonConverter
from pip_services3_commons.errors import ErrorDescriptionFactory
from pip_services3_components.build import Factory
from pip_services3_components.count import CompositeCounters
from pip_services3_components.log import ConsoleLogger, DefaultLoggerFactory, LogLevel, LogLevelConverter

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
