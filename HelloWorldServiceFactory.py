"""Creates the hello-world components by their descriptors, as config.yml names them."""

from pip_services3_commons.refer import Descriptor
from pip_services3_components.build import Factory

from HelloWorldCommandableHttpClient import HelloWorldCommandableHttpClient
from HelloWorldCommandableHttpService import HelloWorldCommandableHttpService
from HelloWorldController import HelloWorldController
from HelloWorldDirectClient import HelloWorldDirectClient
from HelloWorldHttpEndpoint import HelloWorldHttpEndpoint
from HelloWorldRestClient import HelloWorldRestClient
from HelloWorldRestService import HelloWorldRestService
from HelloWorldSwaggerService import HelloWorldSwaggerService


class HelloWorldServiceFactory(Factory):
    """The factory the container asks for every `hello-world:*` component in config.yml."""

    ControllerDescriptor = Descriptor("hello-world", "controller", "default", "*", "1.0")
    HttpServiceDescriptor = Descriptor("hello-world", "service", "http", "*", "1.0")
    HttpClientDescriptor = Descriptor("hello-world", "client", "http", "*", "1.0")
    HttpEndpointDescriptor = Descriptor("hello-world", "endpoint", "http", "*", "1.0")
    CommandableHttpServiceDescriptor = Descriptor("hello-world", "service", "commandable-http", "*", "1.0")
    CommandableHttpClientDescriptor = Descriptor("hello-world", "client", "commandable-http", "*", "1.0")
    DirectClientDescriptor = Descriptor("hello-world", "client", "direct", "*", "1.0")
    SwaggerServiceDescriptor = Descriptor("hello-world", "swagger-service", "default", "*", "1.0")

    def __init__(self) -> None:
        super().__init__()
        self.register_as_type(self.ControllerDescriptor, HelloWorldController)
        self.register_as_type(self.HttpServiceDescriptor, HelloWorldRestService)
        self.register_as_type(self.HttpClientDescriptor, HelloWorldRestClient)
        self.register_as_type(self.HttpEndpointDescriptor, HelloWorldHttpEndpoint)
        self.register_as_type(self.CommandableHttpServiceDescriptor, HelloWorldCommandableHttpService)
        self.register_as_type(self.CommandableHttpClientDescriptor, HelloWorldCommandableHttpClient)
        self.register_as_type(self.DirectClientDescriptor, HelloWorldDirectClient)
        self.register_as_type(self.SwaggerServiceDescriptor, HelloWorldSwaggerService)
