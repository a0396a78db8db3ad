"""The controller's operations as Pip.Services commands, for commandable services and clients.

A CommandableHttpService publishes each command as `POST /<base route>/<command>` with its parameters
in a JSON object, and generates its OpenAPI document from the commands' schemas.
"""

import library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

from collections.abc import Callable
from typing import Any

from pip_services3_commons.commands import Command, CommandSet
from pip_services3_commons.convert import TypeCode
from pip_services3_commons.run import Parameters
from pip_services3_commons.validate import ObjectSchema, PropertySchema, ValidationException

from IHelloWorldController import NAME_OPERATIONS, NAME_PATTERN, NAME_RULES, IHelloWorldController


class NameSchema(PropertySchema):
    """The optional string `name`. It checks the type (INVALID_DATA otherwise) and states the controller's rules
    for the API document; the controller enforces them, so every transport answers the same codes."""

    pattern = NAME_PATTERN
    description = NAME_RULES

    def __init__(self) -> None:
        super().__init__("name", TypeCode.String, False)


class StrictCommand(Command):
    """A Command that rejects unexpected parameters too: Command.execute validates its schema leniently, where an
    unexpected property is only a warning, so a misspelt "nmae" would silently get the default greeting.
    Its `schema` is public, for the API document (Command keeps it private)."""

    def __init__(self, name: str, schema: ObjectSchema, function: Callable[[str | None, Parameters], Any]) -> None:
        super().__init__(name, schema, function)
        self.schema = schema

    def execute(self, correlation_id: str | None, args: Parameters) -> Any:
        ValidationException.throw_exception_if_needed(correlation_id, self.validate(args), True)
        return super().execute(correlation_id, args)


class HelloWorldCommandSet(CommandSet):
    """A command per name operation (NAME_OPERATIONS): parameters {"name": optional string}; result
    the operation's text, as the controller's method of that name answers it."""

    def __init__(self, controller: IHelloWorldController) -> None:
        super().__init__()
        self._controller = controller
        for operation in NAME_OPERATIONS:
            self.add_command(self._make_name_command(operation))

    def _make_name_command(self, operation: str) -> Command:
        schema = ObjectSchema(allow_undefined=False).with_property(NameSchema())
        method = getattr(self._controller, operation)

        def execute(correlation_id: str | None, args: Parameters) -> str:
            answer: str = method(args.get("name"), correlation_id)
            return answer

        return StrictCommand(operation, schema, execute)
