import pytest
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import BadRequestException, ConfigException

from HelloWorldController import HelloWorldController
from IHelloWorldController import IHelloWorldController
from NameRules import MAX_NAME_LENGTH


def configured(**config: str) -> HelloWorldController:
    controller = HelloWorldController()
    controller.configure(ConfigParams.from_value(config))
    return controller


def test_greets_the_given_name() -> None:
    assert configured(default_name="World").greeting("John") == "Hello, John!"


@pytest.mark.parametrize("name", [None, "", "   ", "\u3000\xa0 "])
def test_no_name_means_the_configured_default(name: str | None) -> None:
    assert configured(default_name="World").greeting(name) == "Hello, World!"


def test_trims_surrounding_whitespace() -> None:
    assert configured().greeting("  John Smith \u3000") == "Hello, John Smith!"


def test_falls_back_to_pip_user_when_config_gives_no_name() -> None:
    assert configured().greeting(None) == "Hello, Pip User!"


def test_trims_the_configured_default_name() -> None:
    assert configured(default_name="  Ann \u3000").greeting(None) == "Hello, Ann!"


@pytest.mark.parametrize(
    "default_name", ["", "  ", "\u3000", "a\nb", "tab\there", "\x1b[31m", "x" * (MAX_NAME_LENGTH + 1), "a\ud800"]
)
def test_refuses_a_default_name_it_could_not_greet(default_name: str) -> None:
    """A blank one given on purpose is a mistake, not a request for the fallback."""
    with pytest.raises(ConfigException) as raised:
        configured(default_name=default_name)
    assert raised.value.code == "INVALID_DEFAULT_NAME"
    assert "default_name" in raised.value.message and "\n" not in raised.value.message
    assert default_name.strip() == "" or default_name not in raised.value.message


def test_accepts_a_default_name_of_the_maximum_length() -> None:
    name = "x" * MAX_NAME_LENGTH
    assert configured(default_name=f" {name} ").greeting(None) == f"Hello, {name}!"


def test_unconfigured_controller_uses_the_fallback() -> None:
    assert HelloWorldController().greeting("") == "Hello, Pip User!"


def test_accepts_a_name_of_the_maximum_length_with_surrounding_whitespace() -> None:
    name = "x" * MAX_NAME_LENGTH
    assert configured().greeting(f"  {name}\xa0") == f"Hello, {name}!"


def test_rejects_a_name_longer_than_the_maximum_after_trimming() -> None:
    with pytest.raises(BadRequestException) as raised:
        configured().greeting("x" * (MAX_NAME_LENGTH + 1), "cid-1")
    assert raised.value.code == "NAME_TOO_LONG"
    assert raised.value.correlation_id == "cid-1"
    assert raised.value.details == {"length": str(MAX_NAME_LENGTH + 1)}  # as docs/errors.md shows it


@pytest.mark.parametrize(
    "name", ["a\x00b", "a\x1fb", "a\x7fb", "line\nbreak", "tab\there", "\x1b[31mred", "\tJohn", "John\r\n", "\x1e"]
)
def test_rejects_control_characters_inside_the_name(name: str) -> None:
    with pytest.raises(BadRequestException) as raised:
        configured().greeting(name, "cid-2")
    assert raised.value.code == "NAME_HAS_CONTROL_CHARACTERS"
    assert raised.value.correlation_id == "cid-2"


@pytest.mark.parametrize("name", ["\ud800", "a\udfffb", "\udc80\udcff"])
def test_rejects_lone_surrogates_as_invalid_encoding(name: str) -> None:
    """Not Unicode text: it cannot be encoded as UTF-8, so no transport could answer it."""
    with pytest.raises(BadRequestException) as raised:
        configured().greeting(name, "cid-4")
    assert (raised.value.code, raised.value.status, raised.value.correlation_id) == ("INVALID_ENCODING", 400, "cid-4")


@pytest.mark.parametrize("name", [123, ["a"], b"John", True, {"name": "x"}])
def test_rejects_a_name_that_is_not_a_string(name: object) -> None:
    with pytest.raises(BadRequestException) as raised:
        configured().greeting(name, "cid-5")  # type: ignore[arg-type]  # not a str on purpose: refused at run time
    assert (raised.value.code, raised.value.status, raised.value.correlation_id) == ("INVALID_NAME_TYPE", 400, "cid-5")


def test_implements_the_greeting_contract_with_the_tutorial_call() -> None:
    controller = configured(default_name="World")
    assert isinstance(controller, IHelloWorldController)
    assert controller.greeting("John") == controller.greeting("John", "cid-3") == "Hello, John!"
