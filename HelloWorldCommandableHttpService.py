"""The Pip.Services way for other services to call this one: each command of the controller as
POST /v1/hello_world/<command> with its parameters in a JSON object, e.g. POST /v1/hello_world/greeting
{"name": "John"}."""

from microservice_chassis.services.commandable import RepairedCommandableHttpService

from IHelloWorldController import CONTROLLER_LOCATOR


class HelloWorldCommandableHttpService(RepairedCommandableHttpService):
    """Publishes the controller's command set (HelloWorldCommandSet) under /v1/hello_world, and its generated
    OpenAPI document at /v1/hello_world/swagger.

    References:
        - `hello-world:controller:*:*:1.0` (required) the controller, an ICommandable
    """

    def __init__(self) -> None:
        super().__init__("v1/hello_world", CONTROLLER_LOCATOR, "Hello World microservice: commands")
