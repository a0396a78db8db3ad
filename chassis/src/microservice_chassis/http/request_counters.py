"""The counters the endpoint counts its answers with: every IHttpRequestCounters among its references."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

from collections.abc import Callable

import bottle
from pip_services3_commons.refer import Descriptor, IReferences

from microservice_chassis.metrics.http_request_counters import IHttpRequestCounters

COUNTERS_LOCATOR = Descriptor("*", "counters", "*", "*", "1.0")

# One answer: method, route template (None: no route matched), status, seconds.
CountRequest = Callable[[str, str | None, int, float], None]


class RequestCounters:
    """Finds the request counters by interface; `count` counts an answer in each (nothing without any)."""

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
    def count(self) -> CountRequest:
        """The counting function: the one counters' own method when there is one (the usual case: no loop per
        answer), else one that counts in each."""
        if len(self._counters) == 1:
            return self._counters[0].count_request
        counters = list(self._counters)

        def count_in_each(method: str, route: str | None, status: int, seconds: float) -> None:
            for each in counters:
                each.count_request(method, route, status, seconds)

        return count_in_each


def route_template(environ: dict[str, object]) -> str | None:
    """The template of the route bottle matched for the request (`/orders/get_order`), None for none."""
    route = environ.get("bottle.route")
    return route.rule if isinstance(route, bottle.Route) else None


# The refusals of a request on a real route for its method (405) or its body (413): counted under that route.
ROUTE_REFUSALS = frozenset({405, 413})


def refused_route(router: bottle.Router, method: str, path: str) -> str | None:
    """The template of the route at `path`, whichever method it takes: a 405 or 413 on it is that route's answer
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
