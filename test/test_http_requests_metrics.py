"""/metrics of the whole process: every series from the start, and each HTTP answer counted exactly once."""

from collections import Counter

import requests
from microservice_chassis.build import ChassisFactory
from microservice_chassis.metrics.prometheus_counters import PrometheusCounters
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from test_HelloWorldPrometheusCounters import promtool_problems

from support import Start, raw_request


def samples(url: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """Every sample `name` of the service's /metrics, by its labels."""
    return samples_in(requests.get(f"{url}/metrics", timeout=5).text, name)


def samples_in(text: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {
        frozenset(sample.labels.items()): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def answers(**labels: str) -> frozenset[tuple[str, str]]:
    return frozenset(labels.items())


def test_every_operation_and_route_is_listed_at_zero_before_the_first_request(start_process) -> None:
    _, url = start_process()
    operations = samples(url, "pipservices_exec_total")
    for service in ("hello_world", "v1/hello_world"):
        assert operations[answers(service=service, command="greeting")] == 0
        assert samples(url, "pipservices_exec_errors_total")[answers(service=service, command="greeting")] == 0
        assert (
            samples(url, "pipservices_exec_duration_seconds_count")[answers(service=service, command="greeting")] == 0
        )
    requests_total = samples(url, "http_requests_total")
    assert requests_total[answers(method="GET", route="/hello_world/greeting", status="200")] == 0
    assert requests_total[answers(method="POST", route="/v1/hello_world/greeting", status="200")] == 0
    assert (
        samples(url, "http_request_duration_seconds_count")[answers(method="GET", route="/hello_world/greeting")] == 0
    )


def test_each_answer_is_counted_once_by_method_route_and_status(start_process) -> None:
    """Successes, rejections by the service, by bottle and by the guards, and the probes and /metrics themselves:
    the counts grow by exactly the answers given (the first /metrics read is counted in the second)."""
    _, url = start_process()
    before = samples(url, "http_requests_total")
    host = url.removeprefix("http://")
    sent = Counter()
    for _ in range(3):
        assert requests.get(f"{url}/hello_world/greeting", params={"name": "John"}, timeout=5).status_code == 200
    sent["GET", "/hello_world/greeting", "200"] += 3
    for _ in range(2):
        assert requests.get(f"{url}/hello_world/greeting", params={"name": "\x00"}, timeout=5).status_code == 400
    sent["GET", "/hello_world/greeting", "400"] += 2
    assert requests.post(f"{url}/v1/hello_world/greeting", json={"name": "Ann"}, timeout=5).status_code == 200
    sent["POST", "/v1/hello_world/greeting", "200"] += 1
    assert requests.get(f"{url}/heartbeat", timeout=5).status_code == 200
    sent["GET", "/heartbeat", "200"] += 1
    assert requests.get(f"{url}/status", timeout=5).status_code == 200
    sent["GET", "/status", "200"] += 1
    assert requests.get(f"{url}/no/such/route?x=1", timeout=5).status_code == 404  # the raw path is no label
    sent["GET", "unmatched", "404"] += 1
    assert requests.get(f"{url}/v1/hello_world/greeting", timeout=5).status_code == 405
    sent["GET", "unmatched", "405"] += 1
    assert requests.request("BREW", f"{url}/heartbeat", timeout=5).status_code == 405  # a method of the client's
    sent["other", "unmatched", "405"] += 1
    assert requests.post(f"{url}/v1/hello_world/greeting", data=b"x" * 20000, timeout=5).status_code == 413
    sent["POST", "unmatched", "413"] += 1
    assert requests.get(f"{url}/heartbeat", headers={"X-Big": "x" * 17000}, timeout=5).status_code == 431
    sent["GET", "unmatched", "431"] += 1
    status, _ = raw_request(url, f"GET /heartbeat HTTP/1.1\r\nHost: {host}\r\nHost: {host}\r\n\r\n".encode())
    assert status == 400  # two Hosts: refused by the guards
    sent["GET", "unmatched", "400"] += 1
    sent["GET", "/metrics", "200"] += 1  # the first read
    after = samples(url, "http_requests_total")
    grown = {labels: value - before.get(labels, 0) for labels, value in after.items() if value != before.get(labels, 0)}
    assert grown == {answers(method=m, route=r, status=s): n for (m, r, s), n in sent.items()}
    durations = samples(url, "http_request_duration_seconds_count")
    assert durations[answers(method="GET", route="/hello_world/greeting")] == 5
    text = requests.get(f"{url}/metrics", timeout=5).text
    assert promtool_problems(text) == ""  # with every kind of answer counted
    assert 'instance="' not in text and 'job="' not in text


def test_a_handler_fault_is_counted_as_its_500(start_endpoint: Start) -> None:
    """A component test: no route of the service fails, the probe service's /probe/boom does."""
    counters = PrometheusCounters()
    _, _, url = start_endpoint(components=(ChassisFactory.PrometheusCountersDescriptor, counters))
    for _ in range(2):
        assert requests.get(f"{url}/probe/boom", timeout=5).status_code == 500
    text = generate_latest(counters.registry).decode()
    assert samples_in(text, "http_requests_total")[answers(method="GET", route="/probe/boom", status="500")] == 2
