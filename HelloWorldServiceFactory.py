"""Creates the hello-world components by their descriptors, as config.yml names them."""

import importlib
from collections.abc import Callable
from typing import Any

from pip_services3_commons.refer import Descriptor
from pip_services3_components.build import Factory

from HelloWorldCommandableHttpService import HelloWorldCommandableHttpService
from HelloWorldController import HelloWorldController
from HelloWorldRestService import HelloWorldRestService


def _imported_when_created(component: str) -> Callable[[Any], Any]:
    """Creates the component of the top-level module named `component`, importing it only then.

    The clients are made by the processes that call this service: with them pip_services3_rpc.clients would bring
    its HTTP client stack (requests, urllib3: about 6 MB and 20 ms) into every service process, where nothing uses it.
    """

    def create(locator: Any) -> Any:
        return getattr(importlib.import_module(component), component)()

    return create


class HelloWorldServiceFactory(Factory):
    """The factory the container asks for every `hello-world:*` component in config.yml."""

    ControllerDescriptor = Descriptor("hello-world", "controller", "default", "*", "1.0")
    HttpServiceDescriptor = Descriptor("hello-world", "service", "http", "*", "1.0")
    CommandableHttpServiceDescriptor = Descriptor("hello-world", "service", "commandable-http", "*", "1.0")
    HttpClientDescriptor = Descriptor("hello-world", "client", "http", "*", "1.0")
    CommandableHttpClientDescriptor = Descriptor("hello-world", "client", "commandable-http", "*", "1.0")
    DirectClientDescriptor = Descriptor("hello-world", "client", "direct", "*", "1.0")

    def __init__(self) -> None:
        super().__init__()
        self.register_as_type(self.ControllerDescriptor, HelloWorldController)
        self.register_as_type(self.HttpServiceDescriptor, HelloWorldRestService)
        self.register_as_type(self.CommandableHttpServiceDescriptor, HelloWorldCommandableHttpService)
        self.register(self.HttpClientDescriptor, _imported_when_created("HelloWorldRestClient"))
        self.register(self.CommandableHttpClientDescriptor, _imported_when_created("HelloWorldCommandableHttpClient"))
        self.register(self.DirectClientDescriptor, _imported_when_created("HelloWorldDirectClient"))
