"""The counts of the HTTP answers an endpoint gives, by method, route template and status."""

from abc import ABC, abstractmethod


class IHttpRequestCounters(ABC):
    """Counters that count every answer of an HTTP endpoint. The endpoint finds them among its
    `*:counters:*:*:1.0` references by this interface, declares its routes when it opens (listed at zero from
    then on) and counts each answer as it logs it."""

    @abstractmethod
    def declare_routes(self, routes: list[tuple[str, str]]) -> None:
        """The (method, route template) pairs the endpoint serves, e.g. ("GET", "/orders/get_order")."""

    @abstractmethod
    def count_request(self, method: str, route: str | None, status: int, seconds: float) -> None:
        """One answer: the request's method, the route template it matched (None: none, e.g. a 404, or refused
        before routing), the status sent and the seconds from the request's arrival to the answer."""
