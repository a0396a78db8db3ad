"""The process's log output as a component: its lost lines counted, its drain time configured.

The standard streams are made QueuedStreams by run.py's first lines (process/streams.py), long before the container
exists; their writers drop lines when nobody reads the output (log/writer.py). This component is where the
container meets them: it counts what they drop in the counters, as `log.dropped_lines` (`log_dropped_lines_total`
in /metrics, at zero from the start), and hands them config.yml's `drain_timeout`, the time the exit gives them to
write what is queued.
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from microservice_chassis.library_fixes.counters import use_own_counters

from pip_services3_commons.config import ConfigParams, IConfigurable
from pip_services3_commons.refer import IReferenceable, IReferences
from pip_services3_commons.run import IOpenable
from pip_services3_components.count import CompositeCounters

from microservice_chassis.metrics.counted_operations import ICountedIncrements
from microservice_chassis.process.streams import DRAIN_TIMEOUT, standard_streams

DROPPED_LINES_COUNTER = "log.dropped_lines"


class LogOutput(IConfigurable, IReferenceable, IOpenable, ICountedIncrements):
    """`chassis:log-output:default:default:1.0`; finds the counters by `*:counters:*:*:1.0`.

    Open, it counts the lines the standard streams drop; closed, it stops counting (the counters close too) but
    leaves the drain timeout in place: the exit, after the container has closed, is when it applies.
    """

    def __init__(self) -> None:
        self._counters = CompositeCounters()
        use_own_counters(self._counters)
        self._drain_timeout = DRAIN_TIMEOUT
        self._opened = False

    def configure(self, config: ConfigParams) -> None:
        """`drain_timeout`: milliseconds the exit waits for the queued log lines (default 5000)."""
        self._drain_timeout = config.get_as_integer_with_default("drain_timeout", int(DRAIN_TIMEOUT * 1000)) / 1000

    def set_references(self, references: IReferences) -> None:
        self._counters.set_references(references)

    def counted_increments(self) -> list[str]:
        """Listed at zero by the Prometheus counters: an alert on `increase(log_dropped_lines_total[5m]) > 0` then
        sees the first lines dropped, which a series that appears with them would hide."""
        return [DROPPED_LINES_COUNTER]

    def is_open(self) -> bool:
        return self._opened

    def open(self, correlation_id: str | None) -> None:
        for stream in standard_streams():
            stream.drain_timeout = self._drain_timeout
            stream.on_dropped = self._count_dropped
        self._opened = True

    def close(self, correlation_id: str | None) -> None:
        for stream in standard_streams():
            if stream.on_dropped == self._count_dropped:
                stream.on_dropped = None
        self._opened = False

    def _count_dropped(self, lines: int) -> None:
        """Called by the serving thread whose line was dropped: CachedCounters' increment takes its own lock."""
        self._counters.increment(DROPPED_LINES_COUNTER, lines)
