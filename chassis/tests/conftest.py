"""The chassis' fixtures: its endpoint with test services on a free port, real sockets and pipes."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

from collections.abc import Iterator

import pytest
from microservice_chassis.build import ChassisFactory
from microservice_chassis.http.endpoint import GranianHttpEndpoint
from microservice_chassis.testing import free_port
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.refer import Descriptor, References
from pip_services3_components.log import ConsoleLogger
from pip_services3_rpc.services import HeartbeatRestService, RestService

from doubles import Adder, AdderService, EndpointUnderTest, ProbeService, Start


@pytest.fixture
def start_endpoint() -> Iterator[Start]:
    """Opens our endpoint with the probe, adder and heartbeat services on a free port; closes it afterwards."""
    opened: list[tuple[GranianHttpEndpoint, list[RestService]]] = []

    def start(
        *config: object,
        port: int | None = None,
        logger: ConsoleLogger | None = None,
        components: tuple[object, ...] = (),
    ) -> EndpointUnderTest:
        """`components`: more (descriptor, component) pairs for the references, e.g. counters."""
        port = port or free_port()
        endpoint = GranianHttpEndpoint()
        endpoint.configure(
            ConfigParams.from_tuples("connection.protocol", "http", "connection.host", "127.0.0.1",
                                     "connection.port", port, *config)
        )  # fmt: skip
        probe, adder, heartbeat = ProbeService(), AdderService(), HeartbeatRestService()
        adder.configure(ConfigParams())  # a CommandableHttpService must be configured before it registers
        references = References.from_tuples(
            ChassisFactory.HttpEndpointDescriptor, endpoint,
            Descriptor("test", "probe", "http", "default", "1.0"), probe,
            Descriptor("test", "adder", "default", "default", "1.0"), Adder(),
            Descriptor("test", "service", "http", "default", "1.0"), adder,
            Descriptor("pip-services", "heartbeat-service", "http", "default", "1.0"), heartbeat,
            *((Descriptor("pip-services", "logger", "console", "default", "1.0"), logger) if logger else ()),
            *components,
        )  # fmt: skip
        services = [probe, adder, heartbeat]
        for component in [endpoint, *services]:
            component.set_references(references)
        endpoint.open(None)
        for service in services:
            service.open(None)
        opened.append((endpoint, services))
        return EndpointUnderTest(endpoint, probe, f"http://127.0.0.1:{port}")

    yield start
    for endpoint, services in opened:
        for service in services:
            service.close(None)
        services[0].release.set()
        endpoint.close(None)
