"""Pip.Services' counters (pip_services3_components 3.5.9): a list of their own per component, updates that cost
about a third as much per call (every request pays them) with the same values, and log counters whose lines say
their values in JSON."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from microservice_chassis.library_fixes.loggers import LevelCheckingCompositeLogger

import json
import time
from datetime import datetime

from pip_services3_commons.refer import IReferences
from pip_services3_components.build import Factory
from pip_services3_components.count import (
    CachedCounters,
    CompositeCounters,
    Counter,
    CounterType,
    DefaultCountersFactory,
    ICounters,
    ICounterTimingCallback,
    LogCounters,
)
from pip_services3_components.log import LogLevel

from microservice_chassis.log import line_format

# How a counter's type is written in its log line.
COUNTER_TYPES = {
    CounterType.Interval: "interval",
    CounterType.LastValue: "last_value",
    CounterType.Statistics: "statistics",
    CounterType.Timestamp: "timestamp",
    CounterType.Increment: "increment",
}
# A counter's values in its log line: attribute, and field (`time` is the line's own in JSON).
COUNTER_VALUES = (("last", "last"), ("count", "count"), ("min", "min"), ("max", "max"), ("average", "avg"))
# The `logger` of the counters' lines (JSON), and their correlation id's place in text lines, as the stock lines.
COUNTERS_LOGGER = "counters"


def use_own_counters(counters: CompositeCounters) -> None:
    """Gives a component's CompositeCounters a list of counters of its own.

    pip_services3_components 3.5.9 declares `CompositeCounters._counters = []` at class level, so every
    instance appends to one shared list: with two RestServices and an endpoint in the container, every call
    was counted once per such component (6x). Call it in the component's constructor, on `self._counters`.
    """
    counters._counters = []


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
        self._timed: list[ICounterTimingCallback] = []  # the others that take timings: found once, not per call
        self._next_update = 0.0

    def set_references(self, references: IReferences) -> None:
        super().set_references(references)
        self._cached = [counters for counters in self._counters if isinstance(counters, CachedCounters)]
        self._others = [counters for counters in self._counters if not isinstance(counters, CachedCounters)]
        self._timed = [counters for counters in self._others if isinstance(counters, ICounterTimingCallback)]

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
        for destination in self._timed:
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


class JsonLogCounters(LogCounters):
    """LogCounters (`pip-services:counters:log:*:1.0`) whose periodic lines give each counter's values in JSON.

    pip_services3_components 3.5.9 LogCounters writes `Counter NAME { "type": CounterType.Increment, "count": 1 }`:
    JSON-shaped, but with Python's repr of the type, so no parser reads it, and with its logger a class attribute
    that every instance shares. Here each counter is one event through a logger of its own: in text lines
    `Counter NAME {"type": "increment", "count": 1}` (the braces are JSON), in JSON lines the fields `counter`,
    `counter_type` and its values (`count`, `last`, `min`, `max`, `avg`, `counter_time`).
    """

    def __init__(self) -> None:
        super().__init__()
        self._log = LevelCheckingCompositeLogger()

    def set_references(self, references: IReferences) -> None:
        self._log.set_references(references)

    def _save(self, counters: list[Counter]) -> None:
        if not self._log.writes(LogLevel.Info):
            return
        for counter in sorted(counters, key=lambda counter: str(counter.name)):
            kind, values = counter_values(counter)
            message = f"Counter {counter.name}"
            if not line_format.is_json():
                message += " " + json.dumps({"type": kind, **values}, default=str)
            fields = {"counter": counter.name, "counter_type": kind, **values}
            self._log.log_event(LogLevel.Info, None, message, COUNTERS_LOGGER, fields)


def counter_values(counter: Counter) -> tuple[str, dict[str, object]]:
    """A counter's type and the values it has: `last`, `count`, `min`, `max`, `avg`, and a timestamp counter's
    `counter_time` (ISO 8601)."""
    values = {field: getattr(counter, name) for name, field in COUNTER_VALUES if getattr(counter, name) is not None}
    if isinstance(counter.time, datetime):
        values["counter_time"] = counter.time.isoformat()
    return COUNTER_TYPES.get(counter.type, str(counter.type)), values


def log_counters_factory() -> Factory:
    """A factory of JsonLogCounters for the stock log counters' descriptor; added to a container after the library's
    factories, it is asked first (as utc_console_logger_factory)."""
    factory = Factory()
    factory.register_as_type(DefaultCountersFactory.LogCountersDescriptor, JsonLogCounters)
    return factory
