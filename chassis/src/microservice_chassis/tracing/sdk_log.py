"""The OpenTelemetry SDK's own log records (logger `opentelemetry` and below: a failed export, a full span queue)
as the service's log lines, in its format (one JSON object per line with LOG_FORMAT=json) and at its LOG_LEVEL.

Without this, Python's last-resort handler wrote them as plain text on stderr, one per failed batch: a line no
JSON reader parses, repeated for as long as the collector fails. Here each kind of record (its logger and message
template) is written at most once per WINDOW_SECONDS; one line then says how many were suppressed.
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from microservice_chassis.library_fixes.loggers import LevelCheckingCompositeLogger

import logging

from pip_services3_components.log import LogLevel

from microservice_chassis.log.rate_limit import LogRateLimit

# The logger the SDK and its exporters log under (their module names).
SDK_LOGGER = "opentelemetry"
# At most one line per kind of record in this many seconds: a failing collector fails every batch, every 5 s.
WINDOW_SECONDS = 60.0
SUPPRESSED = "%d similar lines suppressed in the last %g s: %s"


def _level(record: logging.LogRecord) -> LogLevel:
    if record.levelno >= logging.CRITICAL:
        return LogLevel.Fatal
    if record.levelno >= logging.ERROR:
        return LogLevel.Error
    if record.levelno >= logging.WARNING:
        return LogLevel.Warn
    return LogLevel.Info if record.levelno >= logging.INFO else LogLevel.Debug


class SdkLogHandler(logging.Handler):
    """Writes the SDK's records through the service's loggers, each kind rate-limited (`logger` in JSON: the
    record's logger name, e.g. `opentelemetry.exporter.otlp.proto.http.trace_exporter`)."""

    def __init__(self, logger: LevelCheckingCompositeLogger) -> None:
        super().__init__()
        self._logger = logger
        self._limit = LogRateLimit(1, WINDOW_SECONDS)

    def emit(self, record: logging.LogRecord) -> None:
        level = _level(record)
        if not self._logger.writes(level):
            return
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message = f"{message}: {record.exc_info[1]!r}"

        def summarize(count: int) -> None:
            text = SUPPRESSED % (count, WINDOW_SECONDS, message)
            self._logger.log_event(level, None, text, record.name, {"suppressed_lines": count})

        if self._limit.admit(f"{record.name}:{record.msg}", summarize):
            self._logger.log_event(level, None, message, record.name, {})


def install(logger: LevelCheckingCompositeLogger) -> None:
    """Routes the SDK's records to `logger` only (replacing a handler installed before, by an earlier open)."""
    sdk_logger = logging.getLogger(SDK_LOGGER)
    sdk_logger.handlers = [SdkLogHandler(logger)]
    sdk_logger.propagate = False  # never also to the root logger, or Python's last resort, as plain text
