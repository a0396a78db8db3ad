import re

import pytest
from pip_services3_commons.errors import BadRequestException
from pip_services3_commons.run import Parameters

from HelloWorldCommandSet import HelloWorldCommandSet
from HelloWorldController import HelloWorldController
from HelloWorldRestService import openapi_document
from IHelloWorldController import IHelloWorldController
from NameRules import MAX_NAME_LENGTH, NAME_PATTERN


def greeting(**args: object) -> str:
    controller = HelloWorldController()
    command = HelloWorldCommandSet(controller).find_command("greeting")
    greeted: str = command.execute("cid-9", Parameters.from_value(args))
    return greeted


def test_the_controller_publishes_one_command_per_operation() -> None:
    """An operation of the controller without its command (or a command without its operation) fails here."""
    commands = {c.get_name() for c in HelloWorldController().get_command_set().get_commands()}
    assert commands == set(IHelloWorldController.__abstractmethods__)


def test_greets_the_given_name_or_the_default() -> None:
    assert greeting(name="John") == "Hello, John!"
    assert greeting() == greeting(name=None) == greeting(name="  ") == "Hello, Pip User!"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"name": "x" * (MAX_NAME_LENGTH + 1)}, "NAME_TOO_LONG"),
        ({"name": "a\nb"}, "NAME_HAS_CONTROL_CHARACTERS"),
        ({"name": 5}, "INVALID_DATA"),
        ({"name": ["John"]}, "INVALID_DATA"),
        ({"nmae": "John"}, "INVALID_DATA"),  # a misspelt parameter is not silently ignored
        ({"name": "John", "extra": 1}, "INVALID_DATA"),
    ],
)
def test_rejects_what_the_controller_rejects_with_its_codes(args: dict[str, object], code: str) -> None:
    with pytest.raises(BadRequestException) as raised:
        greeting(**args)
    assert (raised.value.code, raised.value.status, raised.value.correlation_id) == (code, 400, "cid-9")


def test_name_pattern_agrees_with_the_controller_and_the_rest_document() -> None:
    rest = openapi_document()["components"]["parameters"]["Name"]
    assert rest["schema"]["pattern"] == NAME_PATTERN
    pattern = re.compile(NAME_PATTERN.encode().decode("unicode_escape"))
    controller = HelloWorldController()
    for name in ["John", "", " \u3000x\xa0", "x" * MAX_NAME_LENGTH, "x" * (MAX_NAME_LENGTH + 1), "a\x00", "\x7f", "\t"]:
        try:
            controller.greeting(name)
            accepted = True
        except BadRequestException:
            accepted = False
        assert bool(pattern.match(name)) == accepted, repr(name)
