from collections.abc import Iterator

import pytest
import requests
from microservice_chassis.testing import metric
from pip_services3_commons.errors import BadRequestException

import HelloWorldDirectClient
from HelloWorldDirectClient import HelloWorldDirectClient as DirectClient
from support import imports_no_component_class, opened_process


@pytest.fixture
def live(port: int) -> Iterator[tuple[DirectClient, str]]:
    """The direct client referenced to a running container's components, as a component of it would be."""
    with opened_process(port) as process:
        assert process.references is not None
        client = DirectClient()
        client.set_references(process.references)
        client.open(None)
        yield client, f"http://127.0.0.1:{port}"
        client.close(None)


def test_greets_rejects_with_the_controller_code_and_counts_exactly_in_metrics(live: tuple[DirectClient, str]) -> None:
    client, url = live
    assert client.greeting("cid-1", "John") == "Hello, John!"
    assert client.greeting(None, None) == "Hello, Tester!"
    with pytest.raises(BadRequestException) as raised:
        client.greeting("cid-400", "x" * 300)
    assert (raised.value.code, raised.value.status, raised.value.correlation_id) == ("NAME_TOO_LONG", 400, "cid-400")
    labels = {"service": "hello_world", "command": "greeting"}
    assert metric(url, "pipservices_call_total", **labels) == 3
    assert metric(url, "pipservices_call_duration_seconds_count", **labels) == 3
    assert metric(url, "pipservices_call_errors_total", **labels) == 1
    # In-process: no HTTP request reached the REST service.
    assert metric(url, "pipservices_exec_total", **labels) == 0
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == "Hello, Tester!"


def test_imports_no_component_class() -> None:
    assert imports_no_component_class(HelloWorldDirectClient.__file__)
