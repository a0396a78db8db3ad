"""Benchmark: the service against a bare bottle route served the same way, and against the stock endpoint.

    python bench/bench.py [--seconds 10]

Starts, on free loopback ports: `python run.py` with config.yml as it is (GranianHttpEndpoint); the bare
bottle route of bench/bare_bottle.py on the same endpoint machinery (no Pip.Services service behind it); the same
bare route (bench/bare_wsgi.py) on granian's own WSGI server, one worker with one blocking thread, the floor any
bottle app on granian can reach; and `python run.py` with the endpoint descriptor switched to the stock one (the
one-line change the README shows). Loads GET /hello_world/greeting?name=John with wrk (-t1) when it is installed
(else a Python load generator) at 10, 50 and 200 connections, and prints req/s, p50, p99 and errors, the ratios at
50 connections, the time from spawn to the first 200, and the RSS of the service after warm-up, after the loads
and over 200k more requests. Figures swing 2-3x on a busy machine: it warns when the load average is high.
"""

import argparse
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ports import free_port  # bench/ is this script's directory, first on sys.path

ROOT = Path(__file__).resolve().parent.parent
OURS = '"chassis:endpoint:http:default:1.0"'
STOCK = '"pip-services:endpoint:http:default:1.0"'
PATH = "/hello_world/greeting?name=John"
# The bare bottle route on granian's own WSGI server: the floor of the others.
WSGI = "bare bottle on granian WSGI"


@dataclass
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def run_py(endpoint: str, workdir: Path) -> Callable[[int], list[str]]:
    """`python run.py` with config.yml's endpoint descriptor replaced by `endpoint` (the port comes from HTTP_PORT)."""
    config = (ROOT / "config.yml").read_text()
    assert OURS in config, "config.yml no longer names GranianHttpEndpoint"
    config_path = workdir / f"config-{endpoint.split(':')[0].strip(chr(34))}.yml"
    config_path.write_text(config.replace(OURS, endpoint))
    return lambda port: [sys.executable, str(ROOT / "run.py"), "-c", str(config_path)]


def bare_bottle(port: int) -> list[str]:
    """The bare bottle route on the endpoint's machinery (bench/bare_bottle.py)."""
    return [sys.executable, str(ROOT / "bench" / "bare_bottle.py"), str(port)]


def bare_wsgi(port: int) -> list[str]:
    """The bare bottle route on granian's own WSGI server (its embedded server refuses WSGI: the CLI's, in a
    process of its own): one worker with one blocking thread, HTTP/1 only and the endpoint's backlog, as the
    endpoint serves."""
    return [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", "1", "--blocking-threads", "1",
            "--http", "1", "--no-ws", "--backlog", "1024", "--log-level", "warning", "--host", "127.0.0.1",
            "--port", str(port), "--working-dir", str(ROOT / "bench"), "bare_wsgi:app"]  # fmt: skip


class Service:
    """The process `command(port)` starts, serving the greeting on a free loopback port."""

    def __init__(self, command: Callable[[int], list[str]]) -> None:
        self.port = free_port()
        env = {**os.environ, "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(self.port), "LOG_LEVEL": "warn"}
        started = time.perf_counter()
        self.process = subprocess.Popen(
            command(self.port),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.startup_ms = self._first_200(started)

    def _first_200(self, started: float) -> float:
        """Milliseconds from spawn to the first 200 of the greeting (polled every millisecond)."""
        deadline = started + 30
        while time.perf_counter() < deadline:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            try:
                connection.request("GET", PATH)
                if connection.getresponse().status == 200:
                    return (time.perf_counter() - started) * 1000
            except OSError:
                pass  # not listening yet
            finally:
                connection.close()
            time.sleep(0.001)  # poll interval
        raise TimeoutError("the service did not start")

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) / 1024

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def load_wrk(port: int, connections: int, seconds: int) -> Result:
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "2s",
         f"http://127.0.0.1:{port}{PATH}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    def latency(percentile: str) -> float:
        value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return Result(rps, latency("50"), latency("99"), errors)


def load_python(port: int, connections: int, seconds: int) -> Result:
    """A keep-alive load generator for machines without wrk (slower than wrk: compare ratios, not absolutes)."""
    latencies: list[float] = []
    errors = [0]
    stop_at = time.perf_counter() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                connection.request("GET", PATH)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
                latencies.append((time.perf_counter() - started) * 1000)
            except OSError:
                errors[0] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    if not latencies:
        return Result(0, 0, 0, errors[0])
    return Result(
        len(latencies) / seconds, latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)], errors[0]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="duration of each load (default 10)")
    seconds = parser.parse_args().seconds
    load = load_wrk if shutil.which("wrk") else load_python
    client = "wrk" if load is load_wrk else "Python load generator"
    print(f"client: {client}; {os.cpu_count()} CPUs; {seconds} s per load; load average {os.getloadavg()[0]:.2f}")
    if os.getloadavg()[0] > 0.5:
        print("WARNING: the machine is busy; figures swing 2-3x under load: compare only within one run")
    print(f"importing run.py's modules alone takes {import_ms():.0f} ms")
    results: dict[str, dict[int, Result]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        servers = {
            "service": run_py(OURS, Path(workdir)),
            "bare bottle": bare_bottle,
            WSGI: bare_wsgi,
            "stock endpoint": run_py(STOCK, Path(workdir)),
        }
        for name, command in servers.items():
            service = Service(command)
            print(f"{name}: first 200 after {service.startup_ms:.0f} ms")
            try:
                load(service.port, 10, 2)  # warm-up
                warm_mb = service.rss_mb()
                results[name] = {c: load(service.port, c, seconds if c < 200 else 5) for c in (10, 50, 200)}
                if name == "service":
                    memory_profile(service, load, warm_mb)
            finally:
                service.stop()
    print("\n| endpoint | connections | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|")
    for name, by_connections in results.items():
        for connections, r in by_connections.items():
            row = (name, connections, f"{r.requests_per_second:,.0f}", f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}", r.errors)
            print("| " + " | ".join(map(str, row)) + " |")
    at_50 = {name: by_connections[50].requests_per_second for name, by_connections in results.items()}
    print(f"\nthroughput at 50 connections: service / bare bottle = {at_50['service'] / at_50['bare bottle']:.2f}x, "
          f"service / {WSGI} = {at_50['service'] / at_50[WSGI]:.2f}x, "
          f"bare bottle / {WSGI} = {at_50['bare bottle'] / at_50[WSGI]:.2f}x, "
          f"service / stock endpoint = {at_50['service'] / at_50['stock endpoint']:.1f}x")  # fmt: skip
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


def import_ms() -> float:
    """Milliseconds a fresh interpreter spends importing what run.py imports: the floor of any startup."""
    timed = (
        "import time; t = time.perf_counter(); import microservice_chassis.library_fixes.process_exit as fixes; "
        "fixes.skip_cheroot_version_lookup(); import HelloWorldProcess; print(time.perf_counter() - t)"
    )
    output = subprocess.run([sys.executable, "-c", timed], cwd=ROOT, check=True, capture_output=True, text=True)
    return float(output.stdout) * 1000


def memory_profile(service: Service, load: object, warm_mb: float) -> None:
    """RSS after warm-up, after the loads (200 connections hold buffers of their own), and after at least 200k
    more requests at 50 connections: flat means no growth per request."""
    loaded_mb = service.rss_mb()
    served = 0
    while served < 200_000:
        result = load(service.port, 50, 5)
        served += int(result.requests_per_second * 5)
    print(
        f"service: RSS {warm_mb:.1f} MB after warm-up, {loaded_mb:.1f} MB after the loads up to 200 connections, "
        f"{service.rss_mb():.1f} MB after {served:,} more requests at 50"
    )


if __name__ == "__main__":
    main()
