import subprocess
import sys

import pytest
from pip_services3_commons.refer import Descriptor

from HelloWorldCommandableHttpClient import HelloWorldCommandableHttpClient
from HelloWorldCommandableHttpService import HelloWorldCommandableHttpService
from HelloWorldController import HelloWorldController
from HelloWorldDirectClient import HelloWorldDirectClient
from HelloWorldRestClient import HelloWorldRestClient
from HelloWorldRestService import HelloWorldRestService
from HelloWorldServiceFactory import HelloWorldServiceFactory
from support import ROOT


@pytest.mark.parametrize(
    ("descriptor", "component_type"),
    [
        (HelloWorldServiceFactory.ControllerDescriptor, HelloWorldController),
        (HelloWorldServiceFactory.HttpServiceDescriptor, HelloWorldRestService),
        (HelloWorldServiceFactory.HttpClientDescriptor, HelloWorldRestClient),
        (HelloWorldServiceFactory.CommandableHttpServiceDescriptor, HelloWorldCommandableHttpService),
        (HelloWorldServiceFactory.CommandableHttpClientDescriptor, HelloWorldCommandableHttpClient),
        (HelloWorldServiceFactory.DirectClientDescriptor, HelloWorldDirectClient),
        (Descriptor("hello-world", "service", "commandable-http", "default", "1.0"), HelloWorldCommandableHttpService),
        (Descriptor("hello-world", "client", "commandable-http", "default", "1.0"), HelloWorldCommandableHttpClient),
        (Descriptor("hello-world", "client", "direct", "default", "1.0"), HelloWorldDirectClient),
        # config.yml names the components with a concrete name where the factory has "*".
        (Descriptor("hello-world", "controller", "default", "default", "1.0"), HelloWorldController),
        (Descriptor("hello-world", "service", "http", "default", "1.0"), HelloWorldRestService),
    ],
)
def test_creates_each_component_by_descriptor(descriptor: Descriptor, component_type: type) -> None:
    factory = HelloWorldServiceFactory()
    assert factory.can_create(descriptor) is not None
    assert type(factory.create(descriptor)) is component_type


@pytest.mark.parametrize(
    "descriptor",
    [
        Descriptor("hello-world", "controller", "default", "default", "2.0"),
        Descriptor("hello-world", "service", "grpc", "default", "1.0"),
        Descriptor("pip-services", "endpoint", "http", "default", "1.0"),
    ],
)
def test_unknown_descriptors_create_nothing(descriptor: Descriptor) -> None:
    assert HelloWorldServiceFactory().can_create(descriptor) is None


def test_the_service_process_imports_no_http_client_stack() -> None:
    """The clients are made for callers; the service's own process never loads `requests` (6 MB, 20 ms)."""
    code = "import sys, HelloWorldProcess; HelloWorldProcess.HelloWorldProcess(); print(sorted(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "'requests'" not in loaded.stdout and "'pip_services3_rpc.clients'" not in loaded.stdout
