"""The commandable service's generated OpenAPI document keeps a command's whole parameter schema (required, bounds),
so a command of any shape passes schemathesis without a change to the service."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from microservice_chassis.http.endpoint import GranianHttpEndpoint
from microservice_chassis.services.commandable import RepairedCommandableHttpService, StrictCommand, openapi_document
from microservice_chassis.testing import free_port, schemathesis_run, serving
from pip_services3_commons.commands import CommandSet, ICommandable
from pip_services3_commons.convert import TypeCode
from pip_services3_commons.errors import BadRequestException
from pip_services3_commons.refer import Descriptor
from pip_services3_commons.run import Parameters
from pip_services3_commons.validate import ObjectSchema, PropertySchema, ValueComparisonRule

REPEATER = Descriptor("test", "repeater", "default", "default", "1.0")


class TimesSchema(PropertySchema):
    """A required integer from 1 to 10: the rules enforce it, the JSON Schema keywords state it for the document."""

    minimum = 1
    maximum = 10

    def __init__(self) -> None:
        super().__init__("times", TypeCode.Integer, True, [ValueComparisonRule(">=", 1), ValueComparisonRule("<=", 10)])


class Repeater(ICommandable):
    def get_command_set(self) -> CommandSet:
        commands = CommandSet()
        schema = ObjectSchema(allow_undefined=False).with_property(TimesSchema())
        schema = schema.with_optional_property("word", TypeCode.String)

        def repeat(correlation_id: str | None, args: Parameters) -> str:
            return " ".join([args.get_as_string_with_default("word", "hi")] * args.get_as_integer("times"))

        commands.add_command(StrictCommand("repeat", schema, repeat))
        return commands


class RepeaterService(RepairedCommandableHttpService):
    def __init__(self) -> None:
        super().__init__("v1/repeater", REPEATER, "Repeater")


def body_schema(document: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    body = document["paths"]["/v1/repeater/repeat"]["post"]["requestBody"]
    return body["required"], body["content"]["application/json"]["schema"]


def test_the_document_keeps_required_parameters_and_their_bounds() -> None:
    """pip_services3_rpc's document and this one before: every body optional, only description and pattern kept."""
    commands = Repeater().get_command_set().get_commands()
    required, schema = body_schema(yaml.safe_load(openapi_document("Repeater", "v1/repeater", commands)))
    assert required is True
    assert schema["required"] == ["times"]
    assert schema["properties"]["times"] == {"type": "integer", "minimum": 1, "maximum": 10}
    assert schema["properties"]["word"] == {"type": "string", "nullable": True}


@pytest.mark.parametrize("times", [1.5, True, "2"])
def test_a_value_of_another_json_type_is_refused(times: object) -> None:
    """pip_services3_commons' validation refuses true and "2" for an integer, but took 1.5 (schemathesis found it)."""
    (command,) = Repeater().get_command_set().get_commands()
    with pytest.raises(BadRequestException) as refused:
        command.execute(None, Parameters.from_tuples("times", times))
    assert refused.value.code == "INVALID_DATA"


@pytest.mark.slow
def test_a_command_of_another_shape_passes_schemathesis(tmp_path: Path) -> None:
    """schemathesis, all checks, against the served document: bounds and required parameters are both stated and
    enforced, so its negative cases get 400s and its positive ones 200s."""
    service = (Descriptor("test", "service", "commandable-http", "default", "1.0"), RepeaterService())
    with serving(
        GranianHttpEndpoint, free_port(), service, probe="/v1/repeater/swagger", others=(REPEATER, Repeater())
    ) as url:
        result = schemathesis_run(f"{url}/v1/repeater/swagger", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No issues found" in result.stdout
