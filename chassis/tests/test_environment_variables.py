"""`run.py --help` lists the environment variables the process reads besides its parameters: each one it lists is
read, by the chassis or by the OpenTelemetry SDK."""

import opentelemetry.sdk.environment_variables as sdk_variables
from microservice_chassis.http.spans import EXCLUDED_URLS_VARIABLE
from microservice_chassis.process.build_info import REVISION_VARIABLE
from microservice_chassis.process.command_line import parser
from microservice_chassis.process.environment import VARIABLES
from microservice_chassis.tracing.settings import (
    DISABLED_VARIABLE,
    ENDPOINT_VARIABLE,
    EXPORTER_VARIABLE,
    PROTOCOL_VARIABLES,
)

READ_BY_THE_CHASSIS = {
    REVISION_VARIABLE,
    ENDPOINT_VARIABLE,
    EXCLUDED_URLS_VARIABLE,
    DISABLED_VARIABLE,
    EXPORTER_VARIABLE,
    PROTOCOL_VARIABLES[1],
}


def test_help_lists_every_variable_with_what_it_does() -> None:
    text = parser((), lambda: "").format_help()
    for name, description in VARIABLES:
        assert f"\n  {name}\n    {description.split()[0]} " in text


def test_every_variable_listed_is_read_by_the_chassis_or_the_sdk() -> None:
    names = {name for name, _ in VARIABLES}
    assert names >= READ_BY_THE_CHASSIS
    for name in sorted(names - READ_BY_THE_CHASSIS):
        assert getattr(sdk_variables, name, None) == name, f"{name} is not an OpenTelemetry SDK variable"
