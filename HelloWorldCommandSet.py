"""The controller's operations as Pip.Services commands, for the commandable service and clients.

A commandable service publishes each command as `POST /<base route>/<command>` with its parameters in a JSON
object, and generates its OpenAPI document from the commands' schemas.
"""

from microservice_chassis.services.commandable import StrictCommand
from pip_services3_commons.commands import Command, CommandSet
from pip_services3_commons.convert import TypeCode
from pip_services3_commons.run import Parameters
from pip_services3_commons.validate import ObjectSchema, PropertySchema

from IHelloWorldController import IHelloWorldController
from NameRules import NAME_PATTERN, NAME_RULES


class NameSchema(PropertySchema):
    """The optional string `name`. It checks the type (INVALID_DATA otherwise) and states the controller's rules
    for the API document (`pattern`, `description`: JSON Schema keywords); the controller enforces them, so every
    transport answers the same codes."""

    pattern = NAME_PATTERN
    description = NAME_RULES

    def __init__(self) -> None:
        super().__init__("name", TypeCode.String, False)


class HelloWorldCommandSet(CommandSet):
    """The controller's commands: `greeting` {"name": optional string} -> "Hello, <name>!"."""

    def __init__(self, controller: IHelloWorldController) -> None:
        super().__init__()
        self._controller = controller
        self.add_command(self._make_greeting_command())

    def _make_greeting_command(self) -> Command:
        def greeting(correlation_id: str | None, args: Parameters) -> str:
            return self._controller.greeting(args.get("name"), correlation_id)

        return StrictCommand("greeting", ObjectSchema(allow_undefined=False).with_property(NameSchema()), greeting)
