"""The reference for bench/: a bare bottle route (bench/bare_wsgi.py's handler) served exactly as the service is
(GranianHttpEndpoint on granian, same options), with no Pip.Services service, controller, counters or validation
behind it.

    python bench/bare_bottle.py PORT      serves GET /hello_world/greeting?name=John until SIGTERM
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import signal
import sys
import threading

from bare_wsgi import PATH, greeting  # bench/ is this script's directory, first on sys.path
from microservice_chassis.http.endpoint import GranianHttpEndpoint
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.refer import Descriptor, References
from pip_services3_components.log import ConsoleLogger


class BareGreeting:
    """Registers one bottle route on the endpoint, as a service would, and nothing else."""

    def __init__(self, endpoint: GranianHttpEndpoint) -> None:
        self._endpoint = endpoint
        endpoint.register(self)

    def register(self) -> None:
        self._endpoint.register_route("GET", PATH, None, greeting)


def open_bare_endpoint(port: int) -> GranianHttpEndpoint:
    """The endpoint with the bare route, configured as config.yml configures the service's (logs at warn)."""
    endpoint = GranianHttpEndpoint()
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
