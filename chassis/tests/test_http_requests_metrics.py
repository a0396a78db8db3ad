"""/metrics of the whole process: every series from the start, and each HTTP answer counted exactly once."""

import requests
from microservice_chassis.build import ChassisFactory
from microservice_chassis.metrics.prometheus_counters import PrometheusCounters
from microservice_chassis.testing import answers, samples_in
from prometheus_client import generate_latest

from doubles import Start


def test_a_handler_fault_is_counted_as_its_500(start_endpoint: Start) -> None:
    """A component test: no route of the service fails, the probe service's /probe/boom does."""
    counters = PrometheusCounters()
    _, _, url = start_endpoint(components=(ChassisFactory.PrometheusCountersDescriptor, counters))
    for _ in range(2):
        assert requests.get(f"{url}/probe/boom", timeout=5).status_code == 500
    text = generate_latest(counters.registry).decode()
    assert samples_in(text, "http_requests_total")[answers(method="GET", route="/probe/boom", status="500")] == 2


def test_a_405_or_413_on_a_route_is_counted_under_its_template(start_endpoint: Start) -> None:
    """The method or the body was wrong, not the path: the answer counts under the route's template, not
    "unmatched" (kept for paths no route has)."""
    counters = PrometheusCounters()
    _, _, url = start_endpoint("options.request_max_size", 100,
                               components=(ChassisFactory.PrometheusCountersDescriptor, counters))  # fmt: skip
    assert requests.put(f"{url}/heartbeat", timeout=5).status_code == 405
    assert requests.post(f"{url}/probe/echo", data=b"x" * 101, timeout=5).status_code == 413  # by Content-Length
    chunked = iter([b"x" * 101])  # no Content-Length: refused once that much has arrived
    assert requests.post(f"{url}/probe/echo", data=chunked, timeout=5).status_code == 413
    assert requests.put(f"{url}/no/such/route", timeout=5).status_code == 404
    counted = samples_in(generate_latest(counters.registry).decode(), "http_requests_total")
    assert counted[answers(method="PUT", route="/heartbeat", status="405")] == 1
    assert counted[answers(method="POST", route="/probe/echo", status="413")] == 2
    assert counted[answers(method="PUT", route="unmatched", status="404")] == 1
