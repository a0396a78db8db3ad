"""Series kept as plain numbers, read by prometheus_client only when /metrics is scraped.

Every request adds to a few of these; prometheus_client's own Counter and Histogram cost several times as much per
update (a lock and a value object per sample, label and exemplar checks). Here an update is an addition under one
lock (exact with handler threads too), a histogram's a bisect and two additions; the cumulative buckets and the
metric families are built at scrape time only.
"""

import threading
from bisect import bisect_left
from collections.abc import Callable, Iterator
from typing import Literal, cast

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

# Seconds: a greeting takes tens of microseconds in process (so several bounds below 100 µs, where the answers of an
# idle service fall, else every quantile is a guess inside one bucket), a call across the network or a saturated
# loop milliseconds to seconds.
DURATION_BUCKETS = (0.00001, 0.000025, 0.00005, 0.000075, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)  # fmt: skip
_BUCKET_LABELS = [str(float(bound)) for bound in DURATION_BUCKETS] + ["+Inf"]

Kind = Literal["counter", "gauge", "histogram"]
# The sample names a family of each kind writes, by suffix: a new family may take none of another's.
SAMPLE_SUFFIXES: dict[Kind, tuple[str, ...]] = {
    "counter": ("", "_total", "_created"),
    "gauge": ("",),
    "histogram": ("", "_bucket", "_count", "_sum", "_created"),
}


class Value:
    """A counter's or a gauge's value."""

    __slots__ = ("_acquire", "_release", "value")

    def __init__(self, lock: threading.Lock) -> None:
        self._acquire, self._release, self.value = lock.acquire, lock.release, 0.0

    def add(self, amount: float) -> None:
        self._acquire()  # not `with`: a third of the cost, and an addition of numbers raises nothing to release for
        self.value += amount
        self._release()

    def set(self, value: float) -> None:
        self.value = value  # one store: nothing to lose between threads


class Durations:
    """A histogram of seconds over DURATION_BUCKETS: a count per bucket (not cumulative) and their sum."""

    __slots__ = ("_acquire", "_release", "counts", "sum")

    def __init__(self, lock: threading.Lock) -> None:
        self._acquire, self._release = lock.acquire, lock.release
        self.counts, self.sum = [0] * (len(DURATION_BUCKETS) + 1), 0.0

    def observe(self, seconds: float) -> None:
        # bisect_left: a value equal to a bound counts in that bound's bucket, as Prometheus' `le` says.
        index = bisect_left(DURATION_BUCKETS, seconds)
        self._acquire()  # as Value.add
        self.counts[index] += 1
        self.sum += seconds
        self._release()

    def cumulative(self) -> list[tuple[str, float]]:
        total, buckets = 0, []
        for label, count in zip(_BUCKET_LABELS, self.counts, strict=True):
            total += count
            buckets.append((label, float(total)))
        return buckets


class Answers:
    """The answers of one kind (method, route, status): their count and their durations, updated together under one
    lock, the endpoint's cost per answer."""

    __slots__ = ("_acquire", "_count", "_durations", "_release")

    def __init__(self, lock: threading.Lock, count: Value, durations: Durations) -> None:
        self._acquire, self._release, self._count, self._durations = lock.acquire, lock.release, count, durations

    def record(self, seconds: float) -> None:
        index, durations = bisect_left(DURATION_BUCKETS, seconds), self._durations
        self._acquire()  # as Value.add
        self._count.value += 1
        durations.counts[index] += 1
        durations.sum += seconds
        self._release()


class Family:
    """The series of one metric, by their label values (no labels: the one series of key ())."""

    def __init__(self, kind: Kind, name: str, documentation: str, labels: tuple[str, ...] = ()) -> None:
        self.kind, self.name, self.documentation, self.labels = kind, name, documentation, labels
        self.series: dict[tuple[str, ...], Value | Durations] = {}

    def metric(self) -> Metric:
        """The family as prometheus_client writes it; called under the series' lock, so a scrape sees each
        series whole (a histogram's count, sum and buckets from the same moment)."""
        labels = list(self.labels)
        if self.kind == "histogram":
            histogram = HistogramMetricFamily(self.name, self.documentation, labels=labels)
            for key, durations in self.series.items():
                assert isinstance(durations, Durations)
                histogram.add_metric(list(key), durations.cumulative(), durations.sum)
            return histogram
        family = (CounterMetricFamily if self.kind == "counter" else GaugeMetricFamily)(
            self.name, self.documentation, labels=labels
        )
        for key, value in self.series.items():
            assert isinstance(value, Value)
            family.add_metric(list(key), value.value)
        return family


class SeriesCollector(Collector):
    """The families, for prometheus_client's registry; `lock` guards every update and every scrape."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.families: list[Family] = []

    def add(self, family: Family) -> Family:
        self.families.append(family)
        return family

    def series(self, family: Family, key: tuple[str, ...] = ()) -> Value | Durations:
        """The series of `family` for label values `key`, made (at zero) the first time."""
        found = family.series.get(key)
        if found is None:
            with self.lock:
                found = family.series.get(key)
                if found is None:
                    found = Durations(self.lock) if family.kind == "histogram" else Value(self.lock)
                    family.series[key] = found
        return found

    def value(self, family: Family, key: tuple[str, ...] = ()) -> Value:
        """The series of a counter or gauge family."""
        return cast(Value, self.series(family, key))

    def durations(self, family: Family, key: tuple[str, ...] = ()) -> Durations:
        """The series of a histogram family."""
        return cast(Durations, self.series(family, key))

    def collect(self) -> Iterator[Metric]:
        with self.lock:
            metrics = [family.metric() for family in list(self.families)]
        yield from metrics


class ReadGauge(Collector):
    """A gauge whose value is read when scraped (`read`, None: not read yet), not updated per event: what the
    process knows anyway, such as the requests in flight, costs the requests nothing."""

    def __init__(self, name: str, documentation: str) -> None:
        self.name, self.documentation = name, documentation
        self.read: Callable[[], float] | None = None

    def collect(self) -> Iterator[Metric]:
        read = self.read
        yield GaugeMetricFamily(self.name, self.documentation, value=read() if read is not None else 0)
