"""The Pip.Services way for other services to call this one: each command of the controller as
POST /v1/hello_world/<command> with its parameters in a JSON object, e.g. POST /v1/hello_world/greeting
{"name": "John"}."""

import library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from library_fixes.rest_service import RepairedRestService

from collections.abc import Callable
from typing import Any

from pip_services3_commons.commands import ICommand, ICommandable
from pip_services3_commons.convert import TypeCode
from pip_services3_commons.errors import ConfigException
from pip_services3_commons.refer import IReferences
from pip_services3_commons.validate import ObjectSchema
from pip_services3_rpc.services import CommandableHttpService

import api_documents
from commandable_http_service.body_policy import command_parameters, read_json_object
from ICountedOperations import ICountedOperations
from IHelloWorldController import CONTROLLER_LOCATOR

BASE_ROUTE = "v1/hello_world"
# JSON Schema types of the Pip.Services type codes a command's parameters use.
JSON_TYPES = {TypeCode.String: "string", TypeCode.Integer: "integer", TypeCode.Boolean: "boolean"}


# The largest body a command takes, in bytes (413 BODY_TOO_LARGE above): a greeting's parameters need well under
# 2 KiB, and parsing and validating a body runs on the endpoint's event loop, where 1 MiB of small objects took
# 150-280 ms that every other request waited for.
MAX_COMMAND_BODY = 16 * 1024


class HelloWorldCommandableHttpService(RepairedRestService, CommandableHttpService, ICountedOperations):
    """Publishes the controller's command set on the shared HTTP endpoint under /v1/hello_world.

    Configuration parameters:
        - swagger.enable: serve the generated OpenAPI document at /v1/hello_world/swagger (default true)
        - swagger.auto: generate that document from the commands (default true)

    References:
        - `hello-world:controller:*:*:1.0` (required) an ICommandable controller
        - and those of every service here: the endpoint, the Swagger UI (RepairedRestService)
    """

    _controller: ICommandable  # set by set_references

    def __init__(self) -> None:
        super().__init__(BASE_ROUTE)
        self._swagger_enabled = True
        self._dependency_resolver.put("controller", CONTROLLER_LOCATOR)

    def set_references(self, references: IReferences) -> None:
        super().set_references(references)
        self._controller = self._dependency_resolver.get_one_required("controller")
        if not isinstance(self._controller, ICommandable):
            raise ConfigException(None, "NOT_COMMANDABLE", "The hello-world controller publishes no command set")

    def register(self) -> None:
        """Registers POST <base route>/<command> for each command, and the generated OpenAPI document.

        Not the library's register: its handlers (pip_services3_rpc 3.3.4) count a failed command as a success,
        let its error escape to the endpoint (the stock one answers it with a stack trace) and read the body
        with RestService._get_data (see commandable_http_service/body_policy.read_json_object).
        """
        commands = self._controller.get_command_set().get_commands()
        for command in commands:
            self.register_route("POST", command.get_name(), None, self._handler(command))
        if self._swagger_auto:
            self._register_open_api_spec(openapi_document(self._base_route, commands))

    def counted_operations(self) -> list[str]:
        return [f"{self._counter(command)}.exec" for command in self._controller.get_command_set().get_commands()]

    def _counter(self, command: ICommand) -> str:
        """The name a command is counted as: v1/hello_world.<command>."""
        return f"{self._base_route}.{command.get_name()}"

    def _handler(self, command: ICommand) -> Callable[[], str | None]:
        name = self._counter(command)
        schema: ObjectSchema | None = getattr(command, "schema", None)
        parameters = {prop.get_name() for prop in schema.get_properties()} if schema is not None else set()

        def execute(correlation_id: str | None) -> Any:
            body = read_json_object(correlation_id, parameters, MAX_COMMAND_BODY)
            return command.execute(correlation_id, command_parameters(body))

        def handle() -> str | None:
            return self._instrumented(name, execute)

        return handle


def openapi_document(base_route: str, commands: list[ICommand]) -> str:
    """The OpenAPI document of the commands, generated from their schemas.

    Not pip_services3_rpc 3.3.4's CommandableSwaggerDocument: it documents every result as an object (a greeting
    is a string) and no error response, drops the rules a property schema states (pattern, description), and
    writes YAML by hand without quoting. Results are documented as any JSON value: a command declares no result
    schema.
    """
    paths = {
        f"/{base_route}/{command.get_name()}": {
            "post": {
                "operationId": command.get_name(),
                "tags": [base_route],
                "parameters": [{"$ref": "#/components/parameters/CorrelationId"}],
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": _parameters_schema(command)}},
                },
                "responses": {
                    "200": {"description": "The command's result.", "content": {"application/json": {"schema": {}}}},
                    "400": {"$ref": "#/components/responses/InvalidParameters"},
                    "413": {"$ref": "#/components/responses/BodyTooLarge"},
                },
            }
        }
        for command in commands
    }
    document = {
        "openapi": "3.0.3",
        "info": {
            "title": "Hello World microservice: commands",
            "version": "1.0.0",
            "description": "Each command takes its parameters as one JSON object (an empty body means none). "
            "Every error is a Pip.Services ErrorDescription in JSON.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
    }
    return api_documents.to_yaml(api_documents.complete(document))


def _parameters_schema(command: ICommand) -> dict[str, Any]:
    """The JSON Schema of a command's parameters: its ObjectSchema's properties, each with the rules it states."""
    schema: ObjectSchema | None = getattr(command, "schema", None)
    properties: dict[str, Any] = {}
    for prop in schema.get_properties() if schema is not None else []:
        json_schema: dict[str, Any] = {"type": JSON_TYPES[prop.get_type()]} if prop.get_type() in JSON_TYPES else {}
        if not prop.is_required():
            json_schema["nullable"] = True
        for rule in ("description", "pattern"):
            if getattr(prop, rule, None):
                json_schema[rule] = getattr(prop, rule)
        properties[prop.get_name()] = json_schema
    required = [prop.get_name() for prop in schema.get_properties() if prop.is_required()] if schema else []
    return {
        "type": "object",
        "additionalProperties": bool(schema is None or schema.is_undefined_allowed),
        "properties": properties,
        **({"required": required} if required else {}),
    }
