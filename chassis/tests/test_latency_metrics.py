"""The endpoint's latency and saturation in /metrics: the request histogram from the handler's entry to the last
byte handed to the server, in buckets that resolve a greeting; the requests in flight and the event loop's lag; and
/metrics in the format and encoding the scraper asks for. Real sockets, a real endpoint, no mocks."""

import gzip
import http.client
import threading
import time

import requests
from microservice_chassis.build import ChassisFactory
from microservice_chassis.http.endpoint import GranianHttpEndpoint
from microservice_chassis.metrics.metrics_service import MetricsService
from microservice_chassis.metrics.prometheus_counters import PrometheusCounters
from microservice_chassis.testing import (
    address_of,
    answers,
    free_port,
    non_reading_client,
    openmetrics_families,
    poll,
    promtool_problems,
    samples_in,
    serving,
)
from prometheus_client import generate_latest

from doubles import BIG_ANSWER, Start

HEARTBEAT = answers(method="GET", route="/heartbeat")


def scraped(counters: PrometheusCounters) -> str:
    return generate_latest(counters.registry).decode()


def test_the_request_histogram_resolves_a_greeting_and_reaches_seconds(start_endpoint: Start) -> None:
    """Several bounds below 100 µs, where an in-process answer falls, and up to 10 s; HELP says what is timed."""
    counters = PrometheusCounters()
    _, _, url = start_endpoint(components=(ChassisFactory.PrometheusCountersDescriptor, counters))
    assert requests.get(f"{url}/heartbeat", timeout=5).status_code == 200
    text = scraped(counters)
    bounds = {
        float(dict(labels)["le"])
        for labels in samples_in(text, "http_request_duration_seconds_bucket")
        if labels >= HEARTBEAT
    }
    assert {0.00001, 0.000025, 0.00005, 0.000075, 10.0} <= bounds
    assert samples_in(text, "http_request_duration_seconds_count")[HEARTBEAT] == 1
    assert "# HELP http_request_duration_seconds Seconds from the endpoint's RSGI handler starting on a request" in text
    assert "to the last byte of its answer handed to granian" in text
    assert promtool_problems(text) == ""


def test_a_streamed_answer_is_timed_until_its_last_byte_is_handed_to_the_server(start_endpoint: Start) -> None:
    """A client that reads nothing for half a second holds the end of a 2 MB answer in the endpoint that long."""
    counters = PrometheusCounters()
    _, _, url = start_endpoint(components=(ChassisFactory.PrometheusCountersDescriptor, counters))
    with non_reading_client(url, b"GET /probe/big HTTP/1.1\r\nHost: x\r\n\r\n", 1) as sock:
        time.sleep(0.5)  # the client not reading: what it holds back
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.read() == BIG_ANSWER
    big = answers(method="GET", route="/probe/big")
    assert samples_in(scraped(counters), "http_request_duration_seconds_sum")[big] >= 0.4


def test_a_handler_holding_the_loop_shows_in_flight_and_as_loop_lag(start_endpoint: Start) -> None:
    """options.threads 1: /probe/slow runs on the event loop itself, so every other request and timer waits on it."""
    counters = PrometheusCounters()
    _, probe, url = start_endpoint(components=(ChassisFactory.PrometheusCountersDescriptor, counters))
    slow = threading.Thread(target=requests.get, args=(f"{url}/probe/slow",), kwargs={"timeout": 15})
    slow.start()
    try:
        assert probe.entered.acquire(timeout=5)
        assert samples_in(scraped(counters), "http_requests_in_flight") == {answers(): 1}
        time.sleep(0.4)  # the loop held: the lag sampler's timer, due every 0.1 s, waits
    finally:
        probe.release.set()
        slow.join()
    assert samples_in(scraped(counters), "http_requests_in_flight") == {answers(): 0}

    def late_sample() -> bool:  # the late timer runs once the handler has let the loop go
        lag = samples_in(scraped(counters), "eventloop_lag_seconds_bucket")
        return lag[answers(le="+Inf")] > lag[answers(le="0.25")]

    assert poll(late_sample, 2)
    assert promtool_problems(scraped(counters)) == ""


def test_metrics_negotiates_openmetrics_and_gzip_as_prometheus_client_does() -> None:
    counters = PrometheusCounters()
    metrics = (ChassisFactory.MetricsServiceDescriptor, MetricsService())
    with serving(GranianHttpEndpoint, free_port(), metrics, probe="/metrics",
                 others=(ChassisFactory.PrometheusCountersDescriptor, counters)) as url:  # fmt: skip
        connection = http.client.HTTPConnection(*address_of(url), timeout=5)
        connection.request("GET", "/metrics", headers={"Accept": "application/openmetrics-text;version=1.0.0",
                                                       "Accept-Encoding": "gzip"})  # fmt: skip
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200
        assert response.getheader("Content-Type", "").startswith("application/openmetrics-text; version=1.0.0")
        assert response.getheader("Content-Encoding") == "gzip"
        assert "Accept-Encoding" in response.getheader("Vary", "")
        text = gzip.decompress(body).decode()
        assert text.endswith("# EOF\n")
        assert "http_requests_in_flight" in {family.name for family in openmetrics_families(text)}
        connection.request("GET", "/metrics")  # no Accept, no Accept-Encoding: the text format 0.0.4, plain
        response = connection.getresponse()
        text = response.read().decode()
        assert response.getheader("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
        assert response.getheader("Content-Encoding") is None
        assert promtool_problems(text) == ""
        connection.close()
