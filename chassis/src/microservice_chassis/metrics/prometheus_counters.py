"""The counters in Prometheus' own terms: counters, histograms in seconds and gauges, with HELP and one TYPE each.

pip_services3_prometheus 3.1.2's PrometheusCounters and PrometheusMetricsService write the text format by hand:
one `# TYPE` line per service for the same name (a scrape that promtool and strict scrapers reject once two
services count), no HELP, counters typed as gauges and named `_count` (a suffix reserved for histograms),
milliseconds, an `instance` label that clashes with Prometheus' own, no histogram (so no p99), nothing before the
first call, and an unauthenticated `GET /metricsandreset`. This component keeps the Pip.Services side (every
component's counters reach it through `*:counters:*:*:1.0`, like the log counters) and lets prometheus_client
(the Prometheus project's own library) write the format, from plain series (prometheus_counters/series.py).
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import re
import threading
import time
from collections.abc import Callable

import prometheus_client
from pip_services3_commons.refer import IReferenceable, IReferences
from pip_services3_commons.run import IOpenable
from pip_services3_components.count import CounterTiming, ICounters, ICounterTimingCallback
from prometheus_client import CollectorRegistry

from microservice_chassis.metrics.counted_operations import ICountedIncrements, ICountedOperations
from microservice_chassis.metrics.http_request_counters import IHttpRequestCounters
from microservice_chassis.metrics.loop_lag import SAMPLE_SECONDS
from microservice_chassis.metrics.series import (
    SAMPLE_SUFFIXES,
    Answers,
    Durations,
    Family,
    Kind,
    ReadGauge,
    SeriesCollector,
    Value,
)
from microservice_chassis.process import build_info, identity

# A Pip.Services operation counter: `<service>.<command>.<verb>_<kind>` (orders.get_order.exec_count,
# v1/orders.get_order.call_time).
OPERATION_COUNTER = re.compile(r"(?P<service>.+)\.(?P<command>[^.]+)\.(?P<verb>exec|call)_(?P<kind>count|errors|time)")
WHAT = {"exec": "operations this process executed", "call": "calls this process made to other services"}
# The `method` label's values; any other method is counted as "other" (clients choose methods: no cardinality
# from them).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The `route` label of an answer that matched no route: a 404 or 405, a refusal before routing, a preflight.
UNMATCHED = "unmatched"
# How each Pip.Services update is recorded, by the kind of series it goes to.
KINDS: dict[str, Kind] = {"increment": "counter", "timing": "histogram", "gauge": "gauge", "timestamp": "gauge"}

Record = Callable[[float], None]


class PrometheusCounters(ICounters, ICounterTimingCallback, IHttpRequestCounters, IReferenceable, IOpenable):
    """`chassis:counters:prometheus:default:1.0`: every Pip.Services counter as a Prometheus series, and the
    endpoint's answers.

    Operation counters map one to one, by verb (exec: a service's, call: a client's), with `service` and `command`
    labels: `.<verb>_count` -> `pipservices_<verb>_total`, `.<verb>_errors` -> `pipservices_<verb>_errors_total`,
    `.<verb>_time` (ms) -> the histogram `pipservices_<verb>_duration_seconds`; every operation of an
    ICountedOperations component among the references is there at zero from `open`, as is every counter of an
    ICountedIncrements one, and any other from its first count. Any other counter keeps its name, made a valid
    one: an increment -> a counter `<name>_total`, a timing -> a histogram `<name>_seconds`, a last value or
    statistic -> a gauge, a timestamp -> a gauge `<name>_timestamp_seconds`. The endpoint's answers
    (IHttpRequestCounters) -> `http_requests_total{method, route, status}` and the histogram
    `http_request_duration_seconds{method, route}`; its saturation -> the gauge `http_requests_in_flight` and the
    histogram `eventloop_lag_seconds`. `registry` holds them, with the process_* and python_* collectors;
    MetricsService writes it at /metrics.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._taken: set[str] = set()
        for collector in (prometheus_client.ProcessCollector(registry=self.registry),
                          prometheus_client.PlatformCollector(registry=self.registry),
                          prometheus_client.GCCollector(registry=self.registry)):  # fmt: skip
            for metric in collector.collect():
                self._take(metric.type, metric.name)  # type: ignore[arg-type]  # (counter, gauge: Kinds)
        self._series = SeriesCollector()
        self._operations = {verb: self._operation_families(verb) for verb in WHAT}
        self._requests = self._family("counter", "http_requests", "HTTP answers", ("method", "route", "status"))
        self._durations = self._family(
            "histogram",
            "http_request_duration_seconds",
            "Seconds from the endpoint's RSGI handler starting on a request (granian has read its head, the event loop "
            "has come to it) to the last byte of its answer handed to granian; the wait before that is not in it",
            ("method", "route"),
        )
        self._loop_lag = self._series.durations(self._family(
            "histogram", "eventloop_lag_seconds",
            f"Seconds the HTTP endpoint's event loop ran a timer late (sampled every {SAMPLE_SECONDS} s): the wait a "
            "busy loop adds to every request before its handler starts"))  # fmt: skip
        self.registry.register(self._series)
        self._in_flight = ReadGauge("http_requests_in_flight", "HTTP requests whose handler has started and whose "
                                    "answer is not yet all handed to granian, a scrape over HTTP included")  # fmt: skip
        self._take("gauge", self._in_flight.name)
        self.registry.register(self._in_flight)
        # `<service>_build_info{version, revision, python} 1`, as prometheus_build_info and the exporters' own.
        build = metric_name(identity.name()) + "_build"
        self._take("gauge", build + "_info")
        prometheus_client.Info(
            build, f"The build of {identity.name()} that runs: version, source revision, Python", registry=self.registry
        ).info(build_info.properties())
        self._records: dict[str, dict[str, Record]] = {kind: {} for kind in KINDS}
        # The two every call updates, read directly (a call less per update than _record).
        self._increments, self._timings = self._records["increment"], self._records["timing"]
        self._answers: dict[tuple[str, str | None, int], Answers] = {}  # by method, route and status
        self._creating = threading.Lock()  # a counter's record is made once
        self._references: IReferences | None = None
        self._opened = False

    def _operation_families(self, verb: str) -> dict[str, Family]:
        labels, what = ("service", "command"), WHAT[verb]
        return {
            "count": self._family("counter", f"pipservices_{verb}", f"Pip.Services {what}", labels),
            "errors": self._family("counter", f"pipservices_{verb}_errors", f"Pip.Services {what} that failed", labels),
            "time": self._family("histogram", f"pipservices_{verb}_duration_seconds",
                                 f"Seconds of the Pip.Services {what}", labels),
        }  # fmt: skip

    def _family(self, kind: Kind, name: str, documentation: str, labels: tuple[str, ...] = ()) -> Family:
        if not self._take(kind, name):
            raise ValueError(f"metric {name} is taken")
        return self._series.add(Family(kind, name, documentation, labels))

    def _take(self, kind: Kind, name: str) -> bool:
        """Takes the sample names a family `name` of `kind` writes; False if another family has any of them."""
        names = {name.removesuffix("_total") + suffix for suffix in SAMPLE_SUFFIXES[kind]}
        if names & self._taken:
            return False
        self._taken |= names
        return True

    # --- the lifecycle: every counted operation at zero from open ------------------------------

    def set_references(self, references: IReferences) -> None:
        self._references = references

    def is_open(self) -> bool:
        return self._opened

    def open(self, correlation_id: str | None) -> None:
        """Lists at zero each operation of the ICountedOperations components and each counter of the
        ICountedIncrements ones: all have their references by now."""
        for component in self._references.get_all() if self._references else []:
            if isinstance(component, ICountedOperations):
                for stem in component.counted_operations():
                    self._record(f"{stem}_count", "increment")
            if isinstance(component, ICountedIncrements):
                for name in component.counted_increments():
                    self._record(name, "increment")
        self._opened = True

    def close(self, correlation_id: str | None) -> None:
        self._opened = False

    # --- ICounters ---------------------------------------------------------------------------

    def increment(self, name: str, value: float) -> None:
        (self._increments.get(name) or self._record(name, "increment"))(value)

    def increment_one(self, name: str) -> None:
        (self._increments.get(name) or self._record(name, "increment"))(1)

    def end_timing(self, name: str, elapsed: float) -> None:
        """A timing, in milliseconds as Pip.Services measures them, recorded in seconds."""
        (self._timings.get(name) or self._record(name, "timing"))(elapsed / 1000)

    def begin_timing(self, name: str) -> CounterTiming:
        return CounterTiming(name, self)

    def stats(self, name: str, value: float) -> None:
        self._record(name, "gauge")(value)

    def last(self, name: str, value: float) -> None:
        self._record(name, "gauge")(value)

    def timestamp_now(self, name: str) -> None:
        self._record(name, "timestamp")(time.time())

    def timestamp(self, name: str, value: object) -> None:
        """`value` is a datetime (as Pip.Services passes it) or seconds since the epoch."""
        seconds = value.timestamp() if hasattr(value, "timestamp") else float(value)  # type: ignore[arg-type]
        self._record(name, "timestamp")(seconds)

    # --- IHttpRequestCounters ----------------------------------------------------------------

    def declare_routes(self, routes: list[tuple[str, str]]) -> None:
        """Each route's successful answers and its durations, at zero."""
        for method, route in routes:
            method = method if method in KNOWN_METHODS else "other"
            self._series.series(self._requests, (method, route, "200"))
            self._series.series(self._durations, (method, route))

    def count_request(self, method: str, route: str | None, status: int, seconds: float) -> None:
        if method not in KNOWN_METHODS:
            method = "other"  # before the look-up: a client's methods make no entries
        answers = self._answers.get((method, route, status))
        if answers is None:
            answers = self._new_answers(method, route, status)
        answers.record(seconds)

    def watch_in_flight(self, in_flight: Callable[[], int]) -> None:
        self._in_flight.read = in_flight

    def observe_loop_lag(self, seconds: float) -> None:
        self._loop_lag.observe(seconds)

    def _new_answers(self, method: str, route: str | None, status: int) -> Answers:
        with self._creating:
            series = self._series
            answers = Answers(series.lock, series.value(self._requests, (method, route or UNMATCHED, str(status))),
                              series.durations(self._durations, (method, route or UNMATCHED)))  # fmt: skip
            return self._answers.setdefault((method, route, status), answers)

    # --- how each counter is recorded --------------------------------------------------------

    def _record(self, name: str, kind: str) -> Record:
        """How a value of counter `name` is recorded: found in one dict read, made the first time."""
        records = self._records[kind]
        record = records.get(name)
        if record is None:
            with self._creating:
                record = records.get(name)
                if record is None:
                    record = records[name] = self._new_record(name, kind)
        return record

    def _new_record(self, name: str, kind: str) -> Record:
        operation = OPERATION_COUNTER.fullmatch(name)
        if operation and (operation["kind"] == "time") == (kind == "timing") and kind != "gauge":
            families = self._operations[operation["verb"]]
            key = (operation["service"], operation["command"])
            siblings = {part: self._series.series(family, key) for part, family in families.items()}  # all at zero
            series: Value | Durations | None = siblings[operation["kind"]]
        else:
            series = self._other_series(metric_name(name), name, kind)
        if isinstance(series, Durations):
            return series.observe
        if isinstance(series, Value):
            return series.set if KINDS[kind] == "gauge" else series.add
        return _ignore

    def _other_series(self, metric_name: str, name: str, kind: str) -> Value | Durations | None:
        """A series of its own for a counter that is not an operation's; None for a name another series took."""
        metric_name += {"timing": "_seconds", "timestamp": "_timestamp_seconds"}.get(kind, "")
        if not self._take(KINDS[kind], metric_name):
            return None
        return self._series.series(self._series.add(Family(KINDS[kind], metric_name, f"Pip.Services counter {name}")))


def metric_name(text: str) -> str:
    """`text` made a valid Prometheus name: every character but ASCII letters, digits and _ as _, no leading digit."""
    return re.sub(r"\W|^(?=\d)", "_", text, flags=re.ASCII)


def _ignore(_value: float) -> None:
    """The record of a counter whose name another series took: nothing."""
