"""Benchmark: what a real Prometheus answers for the greeting's p99, next to what wrk saw, below and past saturation.

    python bench/prometheus_latency.py [--seconds 25] [--rounds 3]

Starts `python run.py` (config.yml as it is, LOG_LEVEL=warn) and Debian's Prometheus server (`prometheus` on the
PATH), each on a free loopback port, Prometheus with a temporary storage and a scrape of the service's /metrics
every second. Finds the service's ceiling with an unthrottled wrk -t1 -c50 run of 10 s, then repeats, `--rounds`
times, five loads of GET /hello_world/greeting?name=John, each `--seconds` long:

- held at 30% and at 60% of the ceiling: wrk -t1 -c50 with a Lua `delay()` (milliseconds each connection waits
  before its next request) drawn from an exponential distribution of mean 50 connections / target rate, so that
  the connections do not send in lockstep and the rate stays at or a little under the target;
- held at 30% again with Prometheus paused (SIGSTOP): what the 1 s scrape itself costs the clients;
- unthrottled, wrk -t1 at 50 and at 200 connections: saturated.

After each load it polls Prometheus until a scrape that started after the load ended is stored, and asks its HTTP
API, at that scrape's time and over the last 20 s: the request histogram's p99
(`histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{route=...}[20s])))`), the loop
lag's p99, the sum of the two (one query), the greeting's rate, the most requests in flight, the service's CPU and
the mean time of the scrape's own answer. It prints them beside wrk's rate, p50 and p99 (wrk times from the send
of a request: the delay is not counted), the ratios of wrk's p99 to the histogram's and to the sum, the CPU wrk
and Prometheus used and the load average, then each load's spread over the rounds. wrk, the service and Prometheus
share the machine's cores with whatever else runs: compare within one run.
"""

import argparse
import http.client
import json
import math
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ports import free_port  # bench/ is this script's directory, first on sys.path

ROOT = Path(__file__).resolve().parent.parent
PATH = "/hello_world/greeting?name=John"
ROUTE = 'route="/hello_world/greeting"'
WINDOW = "20s"  # each load lasts longer: the window holds the load alone, its first seconds left out
QUERIES = {
    "p99": f"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{{ROUTE}}}[{WINDOW}])))",
    "lag_p99": f"histogram_quantile(0.99, sum by (le) (rate(eventloop_lag_seconds_bucket[{WINDOW}])))",
    # The request's p99 with the loop's: the wait before the handler that the request histogram cannot see.
    "p99_plus_lag": "histogram_quantile(0.99, sum by (instance, le) "
    f"(rate(http_request_duration_seconds_bucket{{{ROUTE}}}[{WINDOW}]))) "
    f"+ histogram_quantile(0.99, sum by (instance, le) (rate(eventloop_lag_seconds_bucket[{WINDOW}])))",
    "rate": f"sum(rate(http_requests_total{{{ROUTE}}}[{WINDOW}]))",
    "in_flight": f"max(max_over_time(http_requests_in_flight[{WINDOW}]))",
    "cpu": f"sum(rate(process_cpu_seconds_total[{WINDOW}]))",
    # The scrape's own answer: the metrics handler runs on the loop like the greetings, and a 1 s scrape is 15 times
    # Prometheus' default rate.
    "scrape_ms": f'sum(rate(http_request_duration_seconds_sum{{route="/metrics"}}[{WINDOW}])) '
    f'/ sum(rate(http_request_duration_seconds_count{{route="/metrics"}}[{WINDOW}]))',
}
PROMETHEUS_CONFIG = """
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: hello-world
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""
# Each connection waits an exponentially distributed delay (mean MEAN ms) before each request: Poisson-like sends,
# not 50 requests at once every MEAN ms. wrk truncates the delay to whole milliseconds: + 0.5 rounds it instead.
DELAY_SCRIPT = """
math.randomseed(os.time())
local mean = {mean}
function delay()
  return -math.log(1 - math.random()) * mean + 0.5
end
"""


@dataclass
class Wrk:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu: float  # cores wrk used on average


@dataclass
class Row:
    """One load: wrk's side and Prometheus' side (seconds from Prometheus are turned into ms here)."""

    load: str
    round: int
    target: float | None
    wrk: Wrk
    prometheus: dict[str, float]  # NaN when it was not scraping
    prometheus_cpu: float  # cores the Prometheus server used during the load
    load_average: float


class Prometheus:
    """Debian's Prometheus server on a free port, scraping `target_port`'s /metrics every second."""

    def __init__(self, target_port: int, workdir: Path, stack: ExitStack) -> None:
        executable = shutil.which("prometheus")
        if executable is None:
            raise SystemExit("no `prometheus` on the PATH (Debian: apt-get install prometheus)")
        (workdir / "prometheus.yml").write_text(PROMETHEUS_CONFIG.format(port=target_port))
        self.log = workdir / "prometheus.log"
        self.api = f"http://127.0.0.1:{free_port()}"
        command = [executable, f"--config.file={workdir / 'prometheus.yml'}", f"--storage.tsdb.path={workdir / 'data'}",
                   f"--web.listen-address={self.api.removeprefix('http://')}"]  # fmt: skip
        log_file = stack.enter_context(open(self.log, "w"))  # noqa: SIM115 (closed by the stack)
        self.process = subprocess.Popen(command, stdout=log_file, stderr=log_file)
        stack.callback(stop, self.process)

    def cpu_seconds(self) -> float:
        """User and system CPU the server has used, all its threads (from /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No scrape while inside (the server stopped with SIGSTOP, then continued)."""
        self.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.process.send_signal(signal.SIGCONT)

    def query(self, expression: str, at: float | None = None) -> float | None:
        """The value of an instant query (at `at`, Unix seconds, else now), None when it has no result."""
        parameters = {"query": expression} | ({"time": f"{at:.3f}"} if at is not None else {})
        url = f"{self.api}/api/v1/query?{urllib.parse.urlencode(parameters)}"
        with urllib.request.urlopen(url, timeout=5) as answer:
            body: dict[str, Any] = json.load(answer)
        result = body["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def wait_up(self) -> None:
        """Polls until the service's target is up (the server refuses, then answers 503, while it starts)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.query("up") == 1:
                    return
            except (OSError, ValueError, KeyError):
                pass  # not answering queries yet
            time.sleep(0.1)  # poll interval
        raise TimeoutError(f"Prometheus never scraped the service: {self.log.read_text()[-2000:]}")

    def scrape_after(self, moment: float) -> float:
        """The time of the first stored scrape that started after `moment` (Unix seconds), polled for."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            scraped = self.query("timestamp(http_requests_in_flight)")
            if scraped is not None and scraped > moment:
                return scraped
            time.sleep(0.05)  # poll interval: scrapes come every second
        raise TimeoutError(f"no scrape after the load: {self.log.read_text()[-2000:]}")

    def after(self, moment: float) -> dict[str, float]:
        """QUERIES at the first scrape after `moment`; durations in ms."""
        scraped = self.scrape_after(moment)
        values = {name: self.query(expression, scraped) for name, expression in QUERIES.items()}
        answers = {name: math.nan if value is None else value for name, value in values.items()}
        for name in ("p99", "lag_p99", "p99_plus_lag", "scrape_ms"):
            answers[name] *= 1000
        return answers


def start_service(workdir: Path, stack: ExitStack) -> int:
    """`python run.py` on a free loopback port, once it answers the greeting; its port."""
    port = free_port()
    env = {**os.environ, "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(port), "LOG_LEVEL": "warn"}
    log_file = stack.enter_context(open(workdir / "service.log", "w"))  # noqa: SIM115 (closed by the stack)
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py")], env=env, stdout=log_file, stderr=log_file)
    stack.callback(stop, process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            connection.request("GET", PATH)
            if connection.getresponse().status == 200:
                return port
        except OSError:
            pass  # not listening yet
        finally:
            connection.close()
        if process.poll() is not None:
            break
        time.sleep(0.01)  # poll interval
    raise SystemExit(f"the service did not start: {(workdir / 'service.log').read_text()[-2000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wrk(port: int, connections: int, seconds: int, script: Path | None = None) -> Wrk:
    """One wrk -t1 run (with `script`'s delay() when given); its CPU from the rusage of waited-for children."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "2s"]
    command += ["-s", str(script)] if script else []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{PATH}"], capture_output=True, text=True, check=True
    ).stdout
    elapsed = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / elapsed

    def number(pattern: str) -> str:
        found = re.search(pattern, output, re.M)
        if found is None:
            raise ValueError(f"no {pattern!r} in wrk's output:\n{output}")
        return found.group(1)

    def latency_ms(percentile: str) -> float:
        value = number(rf"^\s+{percentile}%\s+([\d.]+(?:us|ms|s))\s*$")
        unit = re.sub(r"[\d.]", "", value)
        return float(value.removesuffix(unit)) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return Wrk(float(number(r"Requests/sec:\s+([\d.]+)")), latency_ms("50"), latency_ms("99"), errors, cpu)


def held(port: int, seconds: int, mean_ms: float, workdir: Path) -> Wrk:
    """wrk -t1 -c50 with each connection's mean delay `mean_ms`."""
    script = workdir / "delay.lua"
    script.write_text(DELAY_SCRIPT.format(mean=f"{mean_ms:.3f}"))
    return wrk(port, 50, seconds, script)


def print_row(row: Row) -> None:
    p, w = row.prometheus, row.wrk
    cells = [
        row.load, row.round, f"{row.target:,.0f}" if row.target else "-", f"{w.requests_per_second:,.0f}",
        f"{p['rate']:,.0f}", f"{w.p50_ms:.2f}", f"{w.p99_ms:.2f}", f"{p['p99']:.2f}", f"{w.p99_ms / p['p99']:.1f}x",
        f"{p['lag_p99']:.2f}", f"{p['p99_plus_lag']:.2f}", f"{w.p99_ms / p['p99_plus_lag']:.1f}x",
        f"{p['in_flight']:.0f}", f"{p['cpu']:.2f}", f"{p['scrape_ms']:.1f}", f"{w.cpu:.2f}",
        f"{row.prometheus_cpu:.3f}", w.errors, f"{row.load_average:.2f}",
    ]  # fmt: skip
    print("| " + " | ".join(re.sub(r"^nanx?$", "-", str(cell)) for cell in cells) + " |", flush=True)


HEADER = (
    "| load | round | target req/s | wrk req/s | Prometheus req/s | wrk p50 ms | wrk p99 ms | histogram p99 ms "
    "| wrk / histogram | loop-lag p99 ms | histogram + lag ms | wrk / (histogram + lag) | max in flight "
    "| service CPU | scrape ms | wrk CPU | Prometheus CPU | errors | load avg |"
)
# What the spread over the rounds shows: name, value of a row, decimals.
MEASURES: list[tuple[str, Callable[[Row], float], int]] = [
    ("wrk req/s", lambda r: r.wrk.requests_per_second, 0),
    ("wrk p99 ms", lambda r: r.wrk.p99_ms, 2),
    ("histogram p99 ms", lambda r: r.prometheus["p99"], 2),
    ("wrk / histogram", lambda r: r.wrk.p99_ms / r.prometheus["p99"], 1),
    ("loop-lag p99 ms", lambda r: r.prometheus["lag_p99"], 2),
    ("histogram + lag ms", lambda r: r.prometheus["p99_plus_lag"], 2),
    ("wrk / (histogram + lag)", lambda r: r.wrk.p99_ms / r.prometheus["p99_plus_lag"], 1),
    ("max in flight", lambda r: r.prometheus["in_flight"], 0),
    ("service CPU", lambda r: r.prometheus["cpu"], 2),
    ("load avg", lambda r: r.load_average, 2),
]


def spread(values: list[float], digits: int) -> str:
    """low-high of `values` (NaNs left out), "-" when all are NaN."""
    values = [value for value in values if not math.isnan(value)]
    if not values:
        return "-"
    low, high = min(values), max(values)
    return f"{low:.{digits}f}" if f"{low:.{digits}f}" == f"{high:.{digits}f}" else f"{low:.{digits}f}-{high:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=25, help="duration of each load (default 25, at least 22)")
    parser.add_argument("--rounds", type=int, default=3, help="times each load is repeated (default 3)")
    arguments = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stop cleans up too: the with blocks' exits run
    seconds, rounds = max(arguments.seconds, 22), arguments.rounds
    if not shutil.which("wrk"):
        raise SystemExit("no `wrk` on the PATH (Debian: apt-get install wrk)")
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"{os.cpu_count()} CPUs; {seconds} s per load, {rounds} rounds; uptime before: {uptime}")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as directory, ExitStack() as stack:
        workdir = Path(directory)
        port = start_service(workdir, stack)
        prometheus = Prometheus(port, workdir, stack)
        prometheus.wait_up()
        wrk(port, 50, 2)  # warm-up
        ceiling = wrk(port, 50, 10)
        print(f"ceiling, unthrottled wrk -t1 -c50 for 10 s: {ceiling.requests_per_second:,.0f} req/s, "
              f"p99 {ceiling.p99_ms:.2f} ms")  # fmt: skip
        fractions = (0.3, 0.6)
        # Closed loop: 50 connections each sending after its answer and a delay d get 50 / (d + latency) req/s: a
        # mean delay of 50 / target holds the rate at the target or a little under it (by latency / delay).
        means = {fraction: 50_000 / (fraction * ceiling.requests_per_second) for fraction in fractions}
        print("\n" + HEADER + "\n" + "|---" * HEADER.count(" | ") + "|---|")

        def measure(load: str, round_: int, target: float | None, run: Callable[[], Wrk], scraped: bool = True) -> None:
            cpu = prometheus.cpu_seconds()
            if scraped:
                result = run()
            else:
                with prometheus.paused():
                    result = run()
            prometheus_cpu = (prometheus.cpu_seconds() - cpu) / seconds
            answers = prometheus.after(time.time()) if scraped else dict.fromkeys(QUERIES, math.nan)
            row = Row(load, round_, target, result, answers, prometheus_cpu, os.getloadavg()[0])
            rows.append(row)
            print_row(row)

        for round_ in range(1, rounds + 1):
            for fraction in fractions:
                target = fraction * ceiling.requests_per_second
                run = partial(held, port, seconds, means[fraction], workdir)
                measure(f"held {fraction:.0%}", round_, target, run)
            # The same rate with Prometheus paused: what the 1 s scrape itself costs the clients.
            target = fractions[0] * ceiling.requests_per_second
            measure(f"held {fractions[0]:.0%}, unscraped", round_, target,
                    partial(held, port, seconds, means[fractions[0]], workdir), scraped=False)  # fmt: skip
            for connections in (50, 200):
                measure(f"unthrottled c{connections}", round_, None, partial(wrk, port, connections, seconds))
    print("\nspread over the rounds:")
    for load in dict.fromkeys(row.load for row in rows):
        mine = [row for row in rows if row.load == load]
        print(f"  {load}: " + ", ".join(f"{name} {spread([value(r) for r in mine], digits)}"
                                         for name, value, digits in MEASURES))  # fmt: skip
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"uptime after: {uptime}")


if __name__ == "__main__":
    main()
