"""The counters the endpoint counts its answers and its load with: every IHttpRequestCounters among its references."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import asyncio
from collections.abc import Callable

import bottle
from pip_services3_commons.refer import Descriptor, IReferences

from microservice_chassis.metrics.http_request_counters import IHttpRequestCounters
from microservice_chassis.metrics.loop_lag import LoopLag

COUNTERS_LOCATOR = Descriptor("*", "counters", "*", "*", "1.0")

# One answer: method, route template (None: no route matched), status, seconds.
CountRequest = Callable[[str, str | None, int, float], None]


class Counting:
    """What the pipeline counts in every counters: each answer (`answer`), the requests in flight and the lag of
    the loop it runs on (measured only when some counters take it)."""

    def __init__(self, counters: list[IHttpRequestCounters]) -> None:
        self._counters = counters
        # The one counters' own method when there is one (the usual case: no loop per answer).
        self.answer: CountRequest = counters[0].count_request if len(counters) == 1 else self._answer_in_each

    def _answer_in_each(self, method: str, route: str | None, status: int, seconds: float) -> None:
        for each in self._counters:
            each.count_request(method, route, status, seconds)

    def watch_in_flight(self, in_flight: Callable[[], int]) -> None:
        for each in self._counters:
            each.watch_in_flight(in_flight)

    def watch_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Starts sampling the lag of `loop`, the server's, on its own thread."""
        if self._counters:
            LoopLag(loop, self._observe_loop_lag).start()

    def _observe_loop_lag(self, seconds: float) -> None:
        for each in self._counters:
            each.observe_loop_lag(seconds)


class RequestCounters:
    """Finds the request counters by interface; `count` counts in each (nothing without any)."""

    def __init__(self) -> None:
        self._counters: list[IHttpRequestCounters] = []

    def set_references(self, references: IReferences) -> None:
        self._counters = [
            counters
            for counters in references.get_optional(COUNTERS_LOCATOR)
            if isinstance(counters, IHttpRequestCounters)
        ]

    def declare(self, app: bottle.Bottle) -> None:
        """Declares every route of `app` (registered by now) to each counters."""
        routes = [(route.method, route.rule) for route in app.routes]
        for counters in self._counters:
            counters.declare_routes(routes)

    @property
    def count(self) -> Counting:
        """What the pipeline counts with."""
        return Counting(list(self._counters))


def route_template(environ: dict[str, object]) -> str | None:
    """The template of the route bottle matched for the request (`/orders/get_order`), None for none."""
    route = environ.get("bottle.route")
    return route.rule if isinstance(route, bottle.Route) else None


# The refusals of a request on a real route for its method (405), its body (413), or for now (503: maintenance,
# closing, short of resources): counted under that route.
ROUTE_REFUSALS = frozenset({405, 413, 503})


def refused_route(router: bottle.Router, method: str, path: str) -> str | None:
    """The template of the route at `path`, whichever method it takes: a 405, 413 or 503 on it is that route's answer
    (bottle matched no route, or the guards refused before it ran), not "unmatched"; None when no route has the
    path. bottle's router reads only the method and the path of an environ."""
    try:
        route, _ = router.match({"REQUEST_METHOD": method, "PATH_INFO": path})
    except bottle.HTTPError as refusal:
        allowed = refusal.headers.get("Allow")  # a 405's: the methods the path takes
        if not allowed:
            return None
        route, _ = router.match({"REQUEST_METHOD": allowed.split(",")[0], "PATH_INFO": path})
    return str(route.rule)
