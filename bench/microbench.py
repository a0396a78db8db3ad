"""In-process cost of one greeting through the endpoint's RSGI handler, without sockets.

    python bench/microbench.py [--requests 500] [--rounds 200] [--profile]

Builds the service as config.yml does (the real container, LOG_LEVEL=info) and, beside it, the bare bottle route
of bench/bare_bottle.py on the same endpoint machinery; calls each handler with an in-memory request and
prints microseconds per greeting and their ratio. `--profile` prints cProfile's top functions for the service.
"""

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import microservice_chassis.library_fixes  # noqa: E402, F401 (before any pip_services3 import: it fixes their defects)

from bare_bottle import open_bare_endpoint  # noqa: E402
from pip_services3_commons.config import ConfigParams  # noqa: E402
from pip_services3_commons.refer import Descriptor  # noqa: E402
from ports import free_port  # noqa: E402

from HelloWorldProcess import CONFIG_PATH, HelloWorldProcess  # noqa: E402


class Headers(dict):
    """granian's RSGI headers: a mapping with `items()`."""


class Scope:
    """An RSGI scope for GET /hello_world/greeting?name=John over HTTP/1.1."""

    proto, http_version, scheme, method = "http", "1.1", "http", "GET"
    server, client, authority = "127.0.0.1:8080", "127.0.0.1:50000", None
    path, query_string = "/hello_world/greeting", "name=John"
    headers = Headers({"host": "localhost:8080", "user-agent": "wrk", "accept": "*/*"})


class Protocol:
    """An RSGI protocol that keeps the last answer."""

    def response_bytes(self, status: int, headers: list, body: bytes) -> None:
        self.answer = (status, body)


def warmed_up(handler: object) -> object:
    """The handler, after 1000 greetings checked to answer as the service does. The first runs on an event loop: the
    endpoint's pipeline attaches its loop-lag sampler to the loop of its first request."""
    scope, protocol = Scope(), Protocol()
    asyncio.run(handler(scope, protocol))
    for _ in range(1000):
        _run(handler(scope, protocol))
    assert protocol.answer == (200, b'"Hello, John!"'), protocol.answer
    return handler


def per_request_us(handler: object, requests: int) -> float:
    """Microseconds per request; the handler completes without awaiting (no body), so one send() runs it."""
    scope, protocol = Scope(), Protocol()
    started = time.perf_counter()
    for _ in range(requests):
        _run(handler(scope, protocol))
    return (time.perf_counter() - started) / requests * 1e6


def _run(coroutine: object) -> None:
    try:
        coroutine.send(None)
    except StopIteration:
        return
    raise RuntimeError("the handler awaited")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="requests per round")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    process = HelloWorldProcess()
    service_pipeline, bare = open_service(process), open_bare_endpoint(free_port())
    try:
        # Short rounds alternate between the two, and the median round counts: a neighbour's burst of load on a
        # shared machine weighs on both alike, or on a few rounds only.
        bare_runs, service_runs = [], []
        bare_handler, service_handler = warmed_up(bare._pipeline), warmed_up(service_pipeline)
        for _ in range(args.rounds):
            bare_runs.append(per_request_us(bare_handler, args.requests))
            service_runs.append(per_request_us(service_handler, args.requests))
        bare_us, service_us = statistics.median(bare_runs), statistics.median(service_runs)
        print(f"bare bottle route: {bare_us:.1f} us per greeting (median of {args.rounds} rounds)")
        print(f"the service:       {service_us:.1f} us per greeting ({service_us / bare_us:.2f}x bare)")
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(per_request_us, service_pipeline, 5000)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    finally:
        bare.close(None)
        process.close(None)


def open_service(process: HelloWorldProcess) -> object:
    """The container of config.yml, opened on a free port at LOG_LEVEL=info; returns its endpoint's RSGI handler."""
    parameters = ConfigParams.from_tuples("HTTP_HOST", "127.0.0.1", "HTTP_PORT", free_port(), "LOG_LEVEL", "info")
    process.read_config_from_file(None, str(CONFIG_PATH), parameters)
    process.open(None)
    endpoint = process._references.get_one_required(Descriptor("chassis", "endpoint", "http", "*", "1.0"))
    return endpoint._pipeline


if __name__ == "__main__":
    main()
