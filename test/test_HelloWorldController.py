import pytest
from pip_services3_commons.config import ConfigParams

from HelloWorldController import HelloWorldController


def configured(**config: str) -> HelloWorldController:
    controller = HelloWorldController()
    controller.configure(ConfigParams.from_value(config))
    return controller


def test_greets_the_given_name() -> None:
    assert configured(default_name="World").greeting("John") == "Hello, John!"


@pytest.mark.parametrize("name", [None, "", "   ", "\t\n"])
def test_no_name_means_the_configured_default(name: str | None) -> None:
    assert configured(default_name="World").greeting(name) == "Hello, World!"


def test_trims_surrounding_whitespace() -> None:
    assert configured().greeting("  John Smith \t") == "Hello, John Smith!"


@pytest.mark.parametrize("config", [{}, {"default_name": ""}, {"default_name": "  "}])
def test_falls_back_to_pip_user_when_config_gives_no_name(config: dict) -> None:
    assert configured(**config).greeting(None) == "Hello, Pip User!"


def test_unconfigured_controller_uses_the_fallback() -> None:
    assert HelloWorldController().greeting("") == "Hello, Pip User!"
