"""/metrics of the whole process (run.py): the dropped log lines and the endpoint's saturation from the first scrape,
and the format and encoding Prometheus asks for."""

import gzip
import http.client
from collections.abc import Callable

import requests
from microservice_chassis.testing import address_of, answers, openmetrics_families, promtool_problems, samples

from support import RunningProcess

Start = Callable[..., tuple[RunningProcess, str]]

# What Prometheus 2 sends with every scrape (scrape/scrape.go's acceptHeader, and Go's transport adds the encoding).
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)


def test_the_first_scrape_has_the_dropped_lines_and_the_saturation(start_process: Start) -> None:
    """Nothing dropped yet is a 0, not a missing series: `increase()` then sees the first drop, and an alert on it
    fires. The scrape itself is the one request in flight."""
    _, url = start_process()
    assert samples(url, "log_dropped_lines_total") == {answers(): 0}
    assert samples(url, "http_requests_in_flight") == {answers(): 1}
    assert answers(le="+Inf") in samples(url, "eventloop_lag_seconds_bucket")
    assert promtool_problems(requests.get(f"{url}/metrics", timeout=5).text) == ""


def test_prometheus_gets_openmetrics_gzipped_with_a_greeting_in_its_bucket(start_process: Start) -> None:
    _, url = start_process()
    assert requests.get(f"{url}/hello_world/greeting", params={"name": "Ann"}, timeout=5).status_code == 200
    connection = http.client.HTTPConnection(*address_of(url), timeout=5)
    connection.request("GET", "/metrics", headers={"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.getheader("Content-Type", "").startswith("application/openmetrics-text; version=1.0.0")
    assert response.getheader("Content-Encoding") == "gzip"
    families = {family.name: family for family in openmetrics_families(gzip.decompress(body).decode())}
    greeting = {"method": "GET", "route": "/hello_world/greeting"}
    buckets = {
        sample.labels["le"]: sample.value
        for sample in families["http_request_duration_seconds"].samples
        if sample.name.endswith("_bucket") and greeting.items() <= sample.labels.items()
    }
    assert buckets["+Inf"] == 1 and buckets["10.0"] == 1
    assert "1e-05" in buckets  # a greeting's own bounds, below 100 µs
    assert families["log_dropped_lines"].samples[0].value == 0
