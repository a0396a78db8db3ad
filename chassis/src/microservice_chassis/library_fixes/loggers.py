"""Pip.Services' loggers (pip_services3_components 3.5.9): console lines in the process's format (log/line_format:
text with UTC times, or JSON) with one line per event, and a composite logger that formats only what some logger
writes and passes an event's fields on."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import sys
from collections.abc import Mapping
from typing import Any, Unpack

from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import ConfigException
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

from microservice_chassis.log import line_format

LOGGER_LOCATOR = Descriptor("*", "logger", "*", "*", "1.0")


class UtcConsoleLogger(ConsoleLogger):
    """ConsoleLogger writing each event as one line in the process's format (process/line_format.py), times in UTC.

    pip_services3_components 3.5.9 ConsoleLogger._write stamps `datetime.utcnow().isoformat()`, a UTC time with no
    zone, so a reader (or a log shipper) takes it for local time, and writes an error's stack as it is: one fault
    was 15 lines, 13 of them outside the line format. Here the text line is the stock one with its time marked `Z`
    and any newline escaped; `format: json` (config.yml's LOG_FORMAT) makes every line of the process JSON.
    """

    def configure(self, config: ConfigParams) -> None:
        """`level` as the stock logger; `format`: text (default) or json, for every line the process writes."""
        super().configure(config)
        try:
            line_format.use(config.get_as_string_with_default("format", "text"))
        except ValueError as error:
            raise ConfigException(None, "INVALID_LOG_FORMAT", f"Console logger: {error}") from error

    def _write(self, level: int, correlation_id: str | None, error: Exception | None, message: str | None) -> None:
        self.write_event(level, correlation_id, message or "", error=error)

    def write_event(
        self, level: int, correlation_id: str | None, message: str, **details: Unpack[line_format.Details]
    ) -> None:
        """Writes one event if its level is written, as line_format.line writes it. WARN and above go to stderr."""
        if self._level < level:
            return
        line = line_format.line(LogLevelConverter.to_string(level), correlation_id, message, **details)
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

    def log_event(
        self,
        level: LogLevel,
        correlation_id: str | None,
        message: str,
        logger: str,
        fields: Mapping[str, object],
    ) -> None:
        """Logs one event with its fields: the console loggers of this process write them as JSON fields (in
        that format), any other logger gets `message` alone. Call it only when `writes(level)`."""
        for destination in self._destinations:
            if isinstance(destination, UtcConsoleLogger):
                destination.write_event(level, correlation_id, message, logger=logger, fields=fields)
            else:
                destination.log(level, correlation_id, None, message)

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
