"""What an instrumented component counts under, so that the counters can show each count before its first update."""

from abc import ABC, abstractmethod


class ICountedOperations(ABC):
    """A service or client whose calls are instrumented (`<name>.exec_*` for a service, `<name>.call_*` for a
    client). The counters find every component with this interface among their references when they open, and
    list each operation's series at zero from then on: a rate or a ratio has a series to work on from the first
    scrape, and an alert on a missing series does not fire on a replica that has not been called yet."""

    @abstractmethod
    def counted_operations(self) -> list[str]:
        """The counter names' stems this component counts under, each `<name>.<verb>` (`orders.get_order.exec`,
        `v1/orders.get_order.exec`; the counters then are `<stem>_count`, `_errors`, `_time`)."""


class ICountedIncrements(ABC):
    """A component that increments counters of its own (not an operation's), found and listed at zero from the
    counters' open as ICountedOperations are: `increase()` over a counter that appears only at its first increment
    misses that increment, and an alert on it sees nothing until then."""

    @abstractmethod
    def counted_increments(self) -> list[str]:
        """The names of the counters this component increments (`log.dropped_lines`)."""
