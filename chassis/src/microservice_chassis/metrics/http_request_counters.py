"""The counts of the HTTP answers an endpoint gives, by method, route template and status, and its saturation."""

from abc import ABC, abstractmethod
from collections.abc import Callable


class IHttpRequestCounters(ABC):
    """Counters that count every answer of an HTTP endpoint. The endpoint finds them among its
    `*:counters:*:*:1.0` references by this interface, declares its routes when it opens (listed at zero from
    then on), counts each answer once its last byte is handed to the server, and reports its load."""

    @abstractmethod
    def declare_routes(self, routes: list[tuple[str, str]]) -> None:
        """The (method, route template) pairs the endpoint serves, e.g. ("GET", "/orders/get_order")."""

    @abstractmethod
    def count_request(self, method: str, route: str | None, status: int, seconds: float) -> None:
        """One answer: the request's method, the route template it matched (None: none, e.g. a 404, or refused
        before routing), the status sent and the seconds from the endpoint's first sight of the request to the
        last byte of its answer handed to the server."""

    @abstractmethod
    def watch_in_flight(self, in_flight: Callable[[], int]) -> None:
        """How many requests the endpoint is answering now: read when the counters are read, never per request.
        The endpoint that opened last is the one read."""

    @abstractmethod
    def observe_loop_lag(self, seconds: float) -> None:
        """One measurement of how late the endpoint's event loop ran a timer that was due: the time every request
        waits, on top of its own, when the loop is saturated."""
