"""Every value of the endpoint's config entry is checked for type and range before anything binds: a wrong one is
one ConfigException naming the key, the entry and what was expected, never a silent default (a port given as a
list used to listen on 3000, a host given as a list on 0.0.0.0, `send_timeout: 1e99` turned the send deadline off).

The entries are YAML, as config.yml's are, read as the container reads them (ConfigParams.from_value)."""

from typing import Any

import pytest
import yaml
from microservice_chassis.http.endpoint import GranianHttpEndpoint
from microservice_chassis.testing import free_port, listening_port
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import ConfigException

DESCRIPTOR = "chassis:endpoint:http:default:1.0"


def entry(yaml_text: str, port: int | None = None) -> ConfigParams:
    """The endpoint's entry with `yaml_text` merged in (on 127.0.0.1 and a port nobody listens on, by default)."""
    value: dict[str, Any] = {"descriptor": DESCRIPTOR, "connection": {"host": "127.0.0.1", "port": port or free_port()}}
    for section, settings in yaml.safe_load(yaml_text).items():
        value[section] = {**value.get(section, {}), **settings} if isinstance(settings, dict) else settings
    return ConfigParams.from_value(value)


def refusal(yaml_text: str) -> str:
    """The one-line message of the ConfigException configure or open raises for the entry, on a port something
    listens on: had the endpoint tried to bind it, the error would be a ConnectionException instead."""
    endpoint = GranianHttpEndpoint()
    try:
        with listening_port() as port, pytest.raises(ConfigException) as raised:
            endpoint.configure(entry(yaml_text, port))
            endpoint.open(None)
    finally:
        endpoint.close(None)  # had it opened after all (elsewhere, as it did on 3000 with a port given as a list)
    message = raised.value.message
    assert "\n" not in message and DESCRIPTOR in message
    return str(message)


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        ("connection: {port: [1, 2]}", "connection.port"),
        ("connection: {port: {a: 1}}", "connection.port"),
        ("connection: {host: [1, 2]}", "connection.host"),
        ("options: {send_timeout: [1]}", "options.send_timeout"),
        ("cors_origins: [a, b]", "cors_origins"),
    ],
)
def test_a_list_or_map_where_one_value_belongs_is_refused(yaml_text: str, key: str) -> None:
    assert f"{key} must be one value" in refusal(yaml_text)


@pytest.mark.parametrize("port", ["0", "65536", "80.5", "8o80", "-1"])
def test_the_port_must_be_an_integer_from_1_to_65535(port: str) -> None:
    assert f"connection.port must be an integer 1-65535, not '{port}'" in refusal(f"connection: {{port: '{port}'}}")


@pytest.mark.parametrize("option", ["header_read_timeout", "body_read_timeout", "drain_timeout", "send_timeout"])
@pytest.mark.parametrize("value", ["1e99", "3600001", "1.5", "true"])
def test_each_time_is_a_positive_number_of_ms_up_to_an_hour(option: str, value: str) -> None:
    message = refusal(f"options: {{{option}: {value}}}")
    assert f"options.{option} must be a positive number of milliseconds up to 3600000 (1 hour)" in message


@pytest.mark.parametrize(
    ("option", "maximum"),
    [
        ("request_max_size", 256 * 1024 * 1024),
        ("max_uri_size", 64 * 1024),
        ("max_header_size", 64 * 1024),
        ("max_unread_per_connection", 256 * 1024 * 1024),
        ("max_unread_total", 256 * 1024 * 1024),
        ("max_connections", 1024 * 1024),
        ("threads", 256),
    ],
)
def test_each_size_is_a_positive_integer_up_to_its_maximum(option: str, maximum: int) -> None:
    for value in (maximum + 1, "2.5", 0):
        assert f"options.{option} must be a positive number" in refusal(f"options: {{{option}: {value}}}")
        assert f"up to {maximum}" in refusal(f"options: {{{option}: {value}}}")


def test_maintenance_enabled_must_be_a_boolean() -> None:
    assert "options.maintenance_enabled must be true or false, not 'sometimes'" in refusal(
        "options: {maintenance_enabled: sometimes}"
    )


def test_the_largest_values_and_config_yml_strings_are_accepted() -> None:
    """Every maximum is itself valid, and numbers as config.yml's mustache gives them (strings of digits)."""
    endpoint = GranianHttpEndpoint()
    endpoint.configure(
        entry(
            "options: {send_timeout: '3600000', header_read_timeout: 3600000, request_max_size: 268435456,"
            " max_uri_size: 65536, max_header_size: 65536, threads: 256, maintenance_enabled: 'false'}"
        )
    )
    endpoint.open(None)
    try:
        assert endpoint.is_open()
    finally:
        endpoint.close(None)
