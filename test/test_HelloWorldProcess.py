"""The container as run.py builds it: config.yml read, components created, referenced and opened."""

from collections.abc import Iterator

import pytest
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.refer import Descriptor
from pip_services3_commons.run import IOpenable
from pip_services3_container.config import ContainerConfigReader

from conftest import wait_until_serving
from HelloWorldController import HelloWorldController
from HelloWorldProcess import CONFIG_PATH, HelloWorldProcess
from HelloWorldRestService import HelloWorldRestService


def configured_descriptors() -> list[Descriptor]:
    """The descriptors of config.yml as the container reads it (YAML after mustache parameterization)."""
    return [c.descriptor for c in ContainerConfigReader.read_from_file(None, str(CONFIG_PATH), ConfigParams())]


@pytest.fixture
def process(port: int) -> Iterator[HelloWorldProcess]:
    process = HelloWorldProcess()
    params = ConfigParams.from_tuples("HTTP_HOST", "127.0.0.1", "HTTP_PORT", port, "DEFAULT_NAME", "Tester")
    process.read_config_from_file(None, str(CONFIG_PATH), params)
    process.open(None)
    wait_until_serving(f"http://127.0.0.1:{port}/heartbeat")
    yield process
    process.close(None)


def test_config_is_valid_yaml_listing_the_seed_components() -> None:
    kinds = {(d.get_group(), d.get_type()) for d in configured_descriptors()}
    assert kinds == {
        ("pip-services", "context-info"),
        ("pip-services", "logger"),
        ("pip-services", "counters"),
        ("hello-world", "controller"),
        ("pip-services", "endpoint"),
        ("hello-world", "service"),
        ("pip-services", "heartbeat-service"),
        ("pip-services", "status-service"),
    }


def test_every_configured_component_is_created_and_opened(process: HelloWorldProcess) -> None:
    references = process._references
    for descriptor in configured_descriptors():
        component = references.get_one_required(descriptor)
        if isinstance(component, IOpenable):
            assert component.is_open(), descriptor


def test_components_are_configured_and_referenced(process: HelloWorldProcess) -> None:
    references = process._references
    controller = references.get_one_required(Descriptor("hello-world", "controller", "*", "*", "1.0"))
    service = references.get_one_required(Descriptor("hello-world", "service", "http", "*", "1.0"))
    assert isinstance(controller, HelloWorldController)
    assert isinstance(service, HelloWorldRestService)
    assert service._controller is controller
    assert controller.greeting(None) == "Hello, Tester!"


def test_closing_closes_every_component(port: int) -> None:
    process = HelloWorldProcess()
    process.read_config_from_file(None, str(CONFIG_PATH), ConfigParams.from_tuples("HTTP_PORT", port))
    process.open(None)
    references = process._references
    openables = [c for c in references.get_all() if isinstance(c, IOpenable)]
    process.close(None)
    assert openables
    assert not any(c.is_open() for c in openables)
