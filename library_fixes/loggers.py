"""Pip.Services' loggers (pip_services3_components 3.5.9): console line times marked UTC, and a composite logger
that formats only what some logger writes."""

import library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import sys
from typing import Any

from pip_services3_commons.refer import Descriptor, IReferences
from pip_services3_components.build import Factory
from pip_services3_components.log import (
    CompositeLogger,
    ConsoleLogger,
    DefaultLoggerFactory,
    ILogger,
    LogLevel,
    LogLevelConverter,
)

from process.LogWriter import log_line

LOGGER_LOCATOR = Descriptor("*", "logger", "*", "*", "1.0")


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
