"""The client contract: every client, against one running container, answers the same cases the same way."""

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from microservice_chassis.testing import free_port, wait_until_serving
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import BadRequestException
from pip_services3_commons.refer import Descriptor, References
from pip_services3_components.count import LogCounters

from HelloWorldCommandableHttpClient import HelloWorldCommandableHttpClient
from HelloWorldController import HelloWorldController
from HelloWorldDirectClient import HelloWorldDirectClient
from HelloWorldProcess import CONFIG_PATH, HelloWorldProcess
from HelloWorldRestClient import HelloWorldRestClient
from HelloWorldServiceFactory import HelloWorldServiceFactory
from IHelloWorldClient import IHelloWorldClient
from IHelloWorldController import IHelloWorldController

DEFAULT_NAME = "Tester"
CLIENTS = [HelloWorldDirectClient, HelloWorldRestClient, HelloWorldCommandableHttpClient]


def operations(interface: type) -> set[str]:
    """The operations an interface offers: its public methods."""
    return {name for name, member in vars(interface).items() if callable(member) and not name.startswith("_")}


@pytest.fixture(scope="module")
def container() -> Iterator[tuple[HelloWorldProcess, str]]:
    """The whole container, opened in this process: its URL for the HTTP clients, its references for the direct one."""
    port = free_port()
    process = HelloWorldProcess()
    params = ConfigParams.from_tuples("HTTP_HOST", "127.0.0.1", "HTTP_PORT", port, "DEFAULT_NAME", DEFAULT_NAME)
    process.read_config_from_file(None, str(CONFIG_PATH), params)
    process.open(None)
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(f"{url}/heartbeat")
    yield process, url
    process.close(None)


@pytest.fixture(params=CLIENTS, ids=lambda kind: kind.__name__)
def counted(
    request: pytest.FixtureRequest, container: tuple[HelloWorldProcess, str]
) -> Iterator[tuple[IHelloWorldClient, LogCounters]]:
    """A client of each kind, with counters of its own: the container's URL, or a controller configured as the
    container's is (the direct client's)."""
    _, url = container
    client, counters, controller = request.param(), LogCounters(), HelloWorldController()
    controller.configure(ConfigParams.from_tuples("default_name", DEFAULT_NAME))
    client.configure(ConfigParams.from_tuples("connection.uri", url))
    client.set_references(References.from_tuples(
        HelloWorldServiceFactory.ControllerDescriptor, controller,
        Descriptor("pip-services", "counters", "log", "default", "1.0"), counters,
    ))  # fmt: skip
    client.open(None)
    yield client, counters
    client.close(None)


@pytest.fixture
def client(counted: tuple[IHelloWorldClient, LogCounters]) -> IHelloWorldClient:
    return counted[0]


@pytest.mark.parametrize(
    ("name", "greeting"),
    [("John", "Hello, John!"), (None, "Hello, Tester!"), ("   ", "Hello, Tester!"), (" Zoë 山田 ", "Hello, Zoë 山田!")],
)
def test_every_client_greets_as_the_controller_does(client: IHelloWorldClient, name: str | None, greeting: str) -> None:
    assert client.greeting("contract-1", name) == greeting


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("x" * 300, "NAME_TOO_LONG"),
        ("a\nb", "NAME_HAS_CONTROL_CHARACTERS"),
        (123, "INVALID_NAME_TYPE"),
        (["a"], "INVALID_NAME_TYPE"),
        ("\ud800", "INVALID_ENCODING"),
    ],
)
def test_every_client_refuses_as_the_controller_does(client: IHelloWorldClient, name: Any, code: str) -> None:
    with pytest.raises(BadRequestException) as raised:
        client.greeting("contract-2", name)
    assert (raised.value.code, raised.value.status, raised.value.correlation_id) == (code, 400, "contract-2")


def test_every_client_counts_each_call_once_with_its_time_and_errors(
    counted: tuple[IHelloWorldClient, LogCounters],
) -> None:
    client, counters = counted
    client.greeting("contract-3", "John")
    with pytest.raises(BadRequestException):
        client.greeting("contract-3", "x" * 300)
    (route,) = {counter.name.split(".greeting.")[0] for counter in counters.get_all()}
    assert {counter.name: counter.count for counter in counters.get_all()} == {
        f"{route}.greeting.call_count": 2,
        f"{route}.greeting.call_time": 2,
        f"{route}.greeting.call_errors": 1,
    }


def test_the_client_contract_has_every_operation_of_the_controller() -> None:
    assert operations(IHelloWorldClient) == operations(IHelloWorldController)


@pytest.mark.parametrize("kind", CLIENTS, ids=lambda kind: kind.__name__)
def test_every_client_implements_the_contract_with_its_signature(kind: type) -> None:
    assert issubclass(kind, IHelloWorldClient)
    assert not inspect.isabstract(kind)
    for operation in operations(IHelloWorldClient):
        contract = inspect.signature(getattr(IHelloWorldClient, operation))
        assert inspect.signature(getattr(kind, operation)).parameters.keys() == contract.parameters.keys()
