"""A commandable HTTP service as a service's own subclass needs it: each command of its controller as
POST /<base route>/<command> with its parameters in one JSON object, counted, bounded, and documented whole."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from microservice_chassis.library_fixes.rest_service import RepairedRestService

from collections.abc import Callable
from typing import Any

from pip_services3_commons.commands import Command, ICommand, ICommandable
from pip_services3_commons.convert import TypeCode
from pip_services3_commons.errors import BadRequestException, ConfigException
from pip_services3_commons.refer import Descriptor, IReferences
from pip_services3_commons.run import Parameters
from pip_services3_commons.validate import ObjectSchema, ValidationException
from pip_services3_rpc.services import CommandableHttpService

from microservice_chassis.metrics.counted_operations import ICountedOperations
from microservice_chassis.services import api_documents
from microservice_chassis.services.body_policy import command_parameters, read_json_object

# JSON Schema types of the Pip.Services type codes a command's parameters use.
JSON_TYPES = {
    TypeCode.String: "string",
    TypeCode.Integer: "integer",
    TypeCode.Long: "integer",
    TypeCode.Float: "number",
    TypeCode.Double: "number",
    TypeCode.Boolean: "boolean",
}


def json_type(value: Any) -> str:
    """The JSON Schema type of a value json.loads made (bool before int: in Python a bool is an int)."""
    for kind, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string")):
        if isinstance(value, kind):
            return name
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "null"


def json_type_fits(actual: str, expected: str) -> bool:
    """Whether a value of JSON type `actual` is one of type `expected` (an integer is a number too)."""
    return actual == expected or (expected, actual) == ("number", "integer")


# The JSON Schema keywords a property schema may state as attributes of its own (NameSchema's `pattern`): copied
# into the document as they are. The property schema's rules enforce them; the document only states them.
SCHEMA_KEYWORDS = (
    "description", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
    "enum", "example",
)  # fmt: skip
# The largest body a command takes by default, in bytes (413 BODY_TOO_LARGE above): commands take a few small
# parameters, and parsing and validating a body runs on the endpoint's event loop, where 1 MiB of small objects
# took 150-280 ms that every other request waited for.
MAX_COMMAND_BODY = 16 * 1024


class StrictCommand(Command):
    """A Command that rejects unexpected parameters and values of another JSON type too.

    pip_services3_commons 3.3.14's Command.execute validates its schema leniently: an unexpected property is only a
    warning (a misspelt parameter would silently be left out), and its type check takes any number for an integer
    (`{"times": 1.5}` reached the command). Its `schema` is public, for the API document (Command keeps it private)."""

    def __init__(self, name: str, schema: ObjectSchema, function: Callable[[str | None, Parameters], Any]) -> None:
        super().__init__(name, schema, function)
        self.schema = schema

    def execute(self, correlation_id: str | None, args: Parameters) -> Any:
        """The JSON types first, then the schema and its rules: pip_services3_commons 3.3.14's comparison rules
        (ValueComparisonRule) compare a value of another type through a NotImplemented that Python 3.14 refuses in a
        boolean context (a TypeError, answered 500)."""
        for prop in self.schema.get_properties():
            value, expected = args.get(prop.get_name()), JSON_TYPES.get(prop.get_type())
            if value is not None and expected is not None and not json_type_fits(json_type(value), expected):
                message = f"{prop.get_name()} must be of the JSON type {expected}"
                raise BadRequestException(correlation_id, "INVALID_DATA", message).with_details(
                    "type", json_type(value)
                )
        ValidationException.throw_exception_if_needed(correlation_id, self.validate(args), True)
        return super().execute(correlation_id, args)


class RepairedCommandableHttpService(RepairedRestService, CommandableHttpService, ICountedOperations):
    """Publishes a controller's command set on the shared HTTP endpoint under `base_route`; a service's subclass
    names the route and the controller's descriptor, as Pip.Services' own samples do.

    Configuration parameters:
        - swagger.enable: serve the generated OpenAPI document at /<base route>/swagger (default true)
        - swagger.auto: generate that document from the commands (default true)

    References:
        - the controller (required), an ICommandable, by the descriptor the subclass gives
        - and those of every service here: the endpoint, the Swagger UI (RepairedRestService)
    """

    _controller: ICommandable  # set by set_references

    def __init__(self, base_route: str, controller: Descriptor, title: str) -> None:
        super().__init__(base_route)
        self._swagger_enabled = True
        self._title = title
        self._dependency_resolver.put("controller", controller)

    def set_references(self, references: IReferences) -> None:
        super().set_references(references)
        self._controller = self._dependency_resolver.get_one_required("controller")
        if not isinstance(self._controller, ICommandable):
            raise ConfigException(None, "NOT_COMMANDABLE", f"The controller of /{self._base_route} has no commands")

    def register(self) -> None:
        """Registers POST <base route>/<command> for each command, and the generated OpenAPI document.

        Not the library's register: its handlers (pip_services3_rpc 3.3.4) count a failed command as a success,
        let its error escape to the endpoint (the stock one answers it with a stack trace) and read the body
        with RestService._get_data (see body_policy.read_json_object).
        """
        commands = self._controller.get_command_set().get_commands()
        for command in commands:
            self.register_route("POST", command.get_name(), None, self._handler(command))
        if self._swagger_auto:
            self._register_open_api_spec(openapi_document(self._title, self._base_route, commands))

    def counted_operations(self) -> list[str]:
        return [f"{self._counter(command)}.exec" for command in self._controller.get_command_set().get_commands()]

    def _counter(self, command: ICommand) -> str:
        """The name a command is counted as: <base route>.<command>."""
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


def openapi_document(title: str, base_route: str, commands: list[ICommand]) -> str:
    """The OpenAPI document of the commands, generated from their schemas (a command's `schema`, public).

    Not pip_services3_rpc 3.3.4's CommandableSwaggerDocument: it documents every result as an object (a greeting
    is a string) and no error response, drops the rules a property schema states (pattern, bounds), marks every
    body optional and writes YAML by hand without quoting. Results are documented as any JSON value: a command
    declares no result schema.
    """
    paths = {}
    for command in commands:
        body = _parameters_schema(command)
        paths[f"/{base_route}/{command.get_name()}"] = {
            "post": {
                "operationId": command.get_name(),
                "tags": [base_route],
                "parameters": [{"$ref": "#/components/parameters/CorrelationId"}],
                "requestBody": {
                    "required": bool(body.get("required")),
                    "content": {"application/json": {"schema": body}},
                },
                "responses": {
                    "200": {"description": "The command's result.", "content": {"application/json": {"schema": {}}}},
                    "400": {"$ref": "#/components/responses/InvalidParameters"},
                    "413": {"$ref": "#/components/responses/BodyTooLarge"},
                },
            }
        }
    document = {
        "openapi": "3.0.3",
        "info": {
            "title": title,
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
        for keyword in SCHEMA_KEYWORDS:
            if getattr(prop, keyword, None) is not None:
                json_schema[keyword] = getattr(prop, keyword)
        properties[prop.get_name()] = json_schema
    required = [prop.get_name() for prop in schema.get_properties() if prop.is_required()] if schema else []
    return {
        "type": "object",
        "additionalProperties": bool(schema is None or schema.is_undefined_allowed),
        "properties": properties,
        **({"required": required} if required else {}),
    }
