"""The counters in Prometheus' own terms: counters, histograms in seconds and gauges, with HELP and one TYPE each.

pip_services3_prometheus 3.1.2's PrometheusCounters and PrometheusMetricsService write the text format by hand:
one `# TYPE` line per service for the same name (a scrape that promtool and strict scrapers reject once two
services count), no HELP, counters typed as gauges and named `_count` (a suffix reserved for histograms),
milliseconds, an `instance` label that clashes with Prometheus' own, no histogram (so no p99), nothing before the
first call, and an unauthenticated `GET /metricsandreset`. This component keeps the Pip.Services side (every
component's counters reach it through `*:counters:*:*:1.0`, like the log counters) and lets prometheus_client
(the Prometheus project's own library) keep the series and write the format.
"""

import library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import re
import threading
import time
from collections.abc import Callable

import prometheus_client
from pip_services3_components.count import CounterTiming, ICounters, ICounterTimingCallback
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# No `<name>_created` series beside each counter and histogram: they double the scrape and no query here uses them.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]  # (it has no annotations)

# A Pip.Services operation counter: `<service>.<command>.<verb>_<kind>` (hello_world.greeting.exec_count,
# v1/hello_world.greeting.call_time).
OPERATION_COUNTER = re.compile(r"(?P<service>.+)\.(?P<command>[^.]+)\.(?P<verb>exec|call)_(?P<kind>count|errors|time)")
# Seconds: a greeting takes tens of microseconds in process, a call across the network milliseconds to seconds.
DURATION_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
WHAT = {"exec": "operations this process executed", "call": "calls this process made to other services"}

Record = Callable[[float], None]


class HelloWorldPrometheusCounters(ICounters, ICounterTimingCallback):
    """`hello-world:counters:prometheus:default:1.0`: every Pip.Services counter as a Prometheus series.

    Operation counters map one to one, by verb (exec: a service's, call: a client's), with `service` and `command`
    labels: `.<verb>_count` -> `pipservices_<verb>_total`, `.<verb>_errors` -> `pipservices_<verb>_errors_total`,
    `.<verb>_time` (ms) -> the histogram `pipservices_<verb>_duration_seconds`; the first of the three an operation
    records brings the other two at zero. Any other counter keeps its name, made a valid one: an increment -> a
    counter `<name>_total`, a timing -> a histogram `<name>_seconds`, a last value or statistic -> a gauge, a
    timestamp -> a gauge `<name>_timestamp_seconds`. `registry` holds them, with the process_* and python_*
    collectors; HelloWorldMetricsService writes it at /metrics.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        prometheus_client.ProcessCollector(registry=self.registry)
        prometheus_client.PlatformCollector(registry=self.registry)
        prometheus_client.GCCollector(registry=self.registry)
        self._operations = {verb: self._operation_metrics(verb) for verb in WHAT}
        self._records: dict[tuple[str, str], Record] = {}
        self._lock = threading.Lock()

    def _operation_metrics(self, verb: str) -> dict[str, Counter | Histogram]:
        labels, what = ("service", "command"), WHAT[verb]
        return {
            "count": Counter(f"pipservices_{verb}", f"Pip.Services {what}", labels, registry=self.registry),
            "errors": Counter(f"pipservices_{verb}_errors", f"Pip.Services {what} that failed", labels,
                              registry=self.registry),
            "time": Histogram(f"pipservices_{verb}_duration_seconds", f"Duration of the Pip.Services {what}", labels,
                              registry=self.registry, buckets=DURATION_BUCKETS),
        }  # fmt: skip

    def increment(self, name: str, value: float) -> None:
        self._record(name, "increment")(value)

    def increment_one(self, name: str) -> None:
        self._record(name, "increment")(1)

    def end_timing(self, name: str, elapsed: float) -> None:
        """A timing, in milliseconds as Pip.Services measures them, recorded in seconds."""
        self._record(name, "timing")(elapsed / 1000)

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

    def _record(self, name: str, kind: str) -> Record:
        """How a value of counter `name` is recorded: found in one dict read, made once under the lock."""
        record = self._records.get((name, kind))
        if record is None:
            with self._lock:
                record = self._records.get((name, kind)) or self._new_record(name, kind)
                self._records[(name, kind)] = record
        return record

    def _new_record(self, name: str, kind: str) -> Record:
        operation = OPERATION_COUNTER.fullmatch(name)
        if operation and (operation["kind"] == "time") == (kind == "timing") and kind != "gauge":
            metrics = self._operations[operation["verb"]]
            children = {key: metric.labels(operation["service"], operation["command"]) for key, metric in
                        metrics.items()}  # fmt: skip
            child = children[operation["kind"]]
            return child.observe if isinstance(child, Histogram) else child.inc
        return self._other_record(re.sub(r"\W|^(?=\d)", "_", name, flags=re.ASCII), name, kind)

    def _other_record(self, metric_name: str, name: str, kind: str) -> Record:
        """A series of its own for a counter that is not an operation's; a name another series took records nothing
        (prometheus_client refuses a second metric of one name)."""
        help_text = f"Pip.Services counter {name}"
        try:
            if kind == "increment":
                return Counter(metric_name, help_text, registry=self.registry).inc
            if kind == "timing":
                return Histogram(f"{metric_name}_seconds", help_text, registry=self.registry,
                                 buckets=DURATION_BUCKETS).observe  # fmt: skip
            suffix = "_timestamp_seconds" if kind == "timestamp" else ""
            return Gauge(metric_name + suffix, help_text, registry=self.registry).set
        except ValueError:  # "Duplicated timeseries in CollectorRegistry"
            return lambda _value: None
