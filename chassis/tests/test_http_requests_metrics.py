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
