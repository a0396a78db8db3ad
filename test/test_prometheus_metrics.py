"""PrometheusCounters and MetricsService: Pip.Services counters as Prometheus reads them."""

import contextlib
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from microservice_chassis.metrics.prometheus_counters import PrometheusCounters
from microservice_chassis.testing import free_port, metric, need, promtool_problems
from pip_services3_components.count import CounterType, LogCounters
from pip_services3_prometheus.count import PrometheusCounterConverter
from prometheus_client import generate_latest

from support import RunningProcess

Start = Callable[..., tuple[RunningProcess, str]]


def exposition(counters: PrometheusCounters) -> str:
    return generate_latest(counters.registry).decode()


def test_operation_counters_map_one_to_one_with_their_siblings_at_zero() -> None:
    counters = PrometheusCounters()
    counters.increment_one("v1/hello_world.greeting.exec_count")
    labels = '{command="greeting",service="v1/hello_world"}'
    text = exposition(counters)
    assert f"pipservices_exec_total{labels} 1.0" in text
    assert f"pipservices_exec_errors_total{labels} 0.0" in text
    assert f"pipservices_exec_duration_seconds_count{labels} 0.0" in text
    counters.end_timing("v1/hello_world.greeting.exec_time", 0.3)  # milliseconds, as Pip.Services times
    counters.increment_one("v1/hello_world.greeting.exec_errors")
    text = exposition(counters)
    assert 'pipservices_exec_duration_seconds_bucket{command="greeting",le="0.0005",service="v1/hello_world"} 1.0' in (
        text
    )
    assert 'pipservices_exec_duration_seconds_bucket{command="greeting",le="0.00025",service="v1/hello_world"} 0.0' in (
        text
    )
    assert f"pipservices_exec_errors_total{labels} 1.0" in text


def test_other_counters_keep_their_name_made_valid_with_their_kind() -> None:
    counters = PrometheusCounters()
    counters.increment("log.lines-dropped", 3)
    counters.end_timing("db.query", 20)
    counters.last("queue.depth", 7)
    counters.stats("queue.depth", 9)
    counters.timestamp("started", datetime(2026, 1, 1, tzinfo=UTC))
    counters.begin_timing("9lives").end_timing()
    text = exposition(counters)
    assert "# TYPE log_lines_dropped_total counter\nlog_lines_dropped_total 3.0" in text
    assert "# HELP log_lines_dropped_total Pip.Services counter log.lines-dropped" in text
    assert 'db_query_seconds_bucket{le="0.025"} 1.0' in text
    assert "queue_depth 9.0" in text
    assert "started_timestamp_seconds 1.7672256e+09" in text
    assert "_9lives_seconds_count 1.0" in text
    assert promtool_problems(text) == ""


def test_a_name_another_series_took_records_nothing_and_breaks_nothing() -> None:
    counters = PrometheusCounters()
    counters.increment_one("process.cpu.seconds")  # would be process_cpu_seconds_total, the process collector's
    counters.increment_one("pipservices.exec")  # would be pipservices_exec_total, the operations'
    assert promtool_problems(exposition(counters)) == ""


def test_the_process_and_python_series_are_there_from_the_start() -> None:
    text = exposition(PrometheusCounters())
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
                 "process_start_time_seconds", "python_info", "python_gc_collections_total"):  # fmt: skip
        assert f"\n{name}" in text, name
    assert "_created" not in text


def test_canary_pip_services3_prometheus_writes_a_type_line_per_service() -> None:
    """pip_services3_prometheus 3.1.2 PrometheusCounterConverter: two services counting one operation give two
    `# TYPE exec_count gauge` lines, which promtool rejects; a fixed converter fails this test."""
    log = LogCounters()
    for service in ("hello_world", "v1/hello_world"):
        log.increment_one(f"{service}.greeting.exec_count")
    text = PrometheusCounterConverter.to_string(log.get_all(), "hello-world", "vm")
    assert text.count("# TYPE exec_count gauge") == 2
    assert 'instance="vm"' in text
    assert "second TYPE line" in promtool_problems(text)
    assert all(c.type == CounterType.Increment for c in log.get_all())


@pytest.fixture
def scraped(start_process: Start) -> tuple[str, str]:
    """The whole service after a REST and a commandable greeting: its base URL and its /metrics text."""
    _, url = start_process()
    requests.get(f"{url}/hello_world/greeting", params={"name": "\x00"}, timeout=5)
    requests.post(f"{url}/v1/hello_world/greeting", json={"name": "John"}, timeout=5)
    answer = requests.get(f"{url}/metrics", timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    return url, answer.text


def test_the_service_metrics_pass_promtool_with_both_services_counting(scraped: tuple[str, str]) -> None:
    url, text = scraped
    assert promtool_problems(text) == ""
    assert metric(url, "pipservices_exec_errors_total", service="hello_world", command="greeting") == 1
    assert metric(url, "pipservices_exec_total", service="v1/hello_world", command="greeting") == 1
    assert 'instance="' not in text and 'job="' not in text


def test_no_route_resets_the_series(scraped: tuple[str, str]) -> None:
    url, _ = scraped
    assert requests.get(f"{url}/metricsandreset", timeout=5).status_code == 404
    assert metric(url, "pipservices_exec_total", service="v1/hello_world", command="greeting") == 1


PROMETHEUS_CONFIG = """
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: hello-world
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""
P99 = "histogram_quantile(0.99, sum by (le) (rate(pipservices_exec_duration_seconds_bucket[30s])))"


def test_a_real_prometheus_scrapes_the_service_and_answers_its_p99(start_process: Start, tmp_path: Path) -> None:
    """Debian's Prometheus server on a free loopback port, scraping every second while greetings come in."""
    prometheus = need("prometheus")
    _, url = start_process()
    (tmp_path / "prometheus.yml").write_text(PROMETHEUS_CONFIG.format(port=url.rsplit(":", 1)[1]))
    api = f"http://127.0.0.1:{free_port()}"
    command = [prometheus, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
               f"--web.listen-address={api.removeprefix('http://')}"]  # fmt: skip
    with (
        open(tmp_path / "prometheus.log", "w") as log_file,
        subprocess.Popen(command, stdout=log_file, stderr=log_file) as server,
    ):
        try:
            answers: dict[str, Any]  # values from Prometheus' JSON answers
            deadline, answers = time.monotonic() + 60, {}
            while time.monotonic() < deadline and answers.get(P99) in (None, "NaN"):
                requests.get(f"{url}/hello_world/greeting", timeout=5)
                for query in ("up", P99):
                    # Not up yet: refused, or a plain-text "Service Unavailable" while it starts.
                    with contextlib.suppress(requests.ConnectionError, ValueError):
                        result = requests.get(f"{api}/api/v1/query", params={"query": query}, timeout=5).json()
                        answers[query] = result["data"]["result"][0]["value"][1] if result["data"]["result"] else None
                time.sleep(0.1)  # a greeting every tenth of a second or so, as traffic
            log = (tmp_path / "prometheus.log").read_text()[-2000:]
            assert answers.get("up") == "1", (answers, log)
            assert answers.get(P99) not in (None, "NaN") and float(answers[P99]) > 0, (answers, log)
        finally:
            server.terminate()
