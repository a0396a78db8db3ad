"""The reference for bench/: a bare bottle route served exactly as the service is (HelloWorldHttpEndpoint on
granian, same options), with no Pip.Services service, controller, counters or validation behind it.

    python bench/bare_bottle.py PORT      serves GET /hello_world/greeting?name=John until SIGTERM
"""

import signal
import sys
import threading
from pathlib import Path

import bottle

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

from pip_services3_commons.config import ConfigParams
from pip_services3_commons.refer import Descriptor, References
from pip_services3_components.log import ConsoleLogger

from HelloWorldHttpEndpoint import HelloWorldHttpEndpoint


class BareGreeting:
    """Registers one bottle route on the endpoint, as a service would, and nothing else."""

    def __init__(self, endpoint: HelloWorldHttpEndpoint) -> None:
        self._endpoint = endpoint
        endpoint.register(self)

    def register(self) -> None:
        self._endpoint.register_route("GET", "/hello_world/greeting", None, self._greeting)

    @staticmethod
    def _greeting() -> str:
        bottle.response.content_type = "application/json"
        return '"Hello, ' + bottle.request.query.get("name", "World") + '!"'


def open_bare_endpoint(port: int) -> HelloWorldHttpEndpoint:
    """The endpoint with the bare route, configured as config.yml configures the service's (logs at warn)."""
    endpoint = HelloWorldHttpEndpoint()
    endpoint.configure(ConfigParams.from_tuples("connection.host", "127.0.0.1", "connection.port", port))
    logger = ConsoleLogger()
    logger.configure(ConfigParams.from_tuples("level", "warn"))
    endpoint.set_references(
        References.from_tuples(Descriptor("pip-services", "logger", "console", "default", "1.0"), logger)
    )
    BareGreeting(endpoint)
    endpoint.open(None)
    return endpoint


if __name__ == "__main__":
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    bare = open_bare_endpoint(int(sys.argv[1]))
    stop.wait()
    bare.close(None)
