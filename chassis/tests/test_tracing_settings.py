"""The standard OTEL_* variables checked before the exporter is made: what turns tracing off, and each value that
would start the service while every span is lost refused in one line naming its variable."""

import os
from pathlib import Path

import pytest
from microservice_chassis.tracing.settings import ENDPOINT_VARIABLE, tracing_wanted
from pip_services3_commons.errors import ConfigException

COLLECTOR = "http://127.0.0.1:4318"


@pytest.fixture(autouse=True)
def no_otel_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in list(os.environ):
        if variable.startswith("OTEL_"):
            monkeypatch.delenv(variable)


@pytest.mark.parametrize(
    ("environment", "wanted"),
    [
        ({}, False),
        ({ENDPOINT_VARIABLE: COLLECTOR}, True),
        ({ENDPOINT_VARIABLE: COLLECTOR, "OTEL_SDK_DISABLED": "True"}, False),
        ({ENDPOINT_VARIABLE: COLLECTOR, "OTEL_TRACES_EXPORTER": "none"}, False),
        ({ENDPOINT_VARIABLE: COLLECTOR, "OTEL_TRACES_EXPORTER": "otlp"}, True),
        # The traces' own protocol wins over the general one, as every OTLP setting's does.
        ({ENDPOINT_VARIABLE: COLLECTOR, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
          "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": COLLECTOR + "/v1/traces"}, False),
    ],
)  # fmt: skip
def test_what_turns_tracing_on_and_off(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], wanted: bool
) -> None:
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    assert tracing_wanted() is wanted


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("OTEL_TRACES_EXPORTER", "otlp,console", "is not an exporter of this service (otlp or none)"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "is not a protocol of this service (http/protobuf only)"),
        (ENDPOINT_VARIABLE, "not a url", "is not an http:// or https:// URL"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://x:1", "is not an http:// or https:// URL"),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent.pem", "is not a readable file"),
        ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "/", "is not a readable file"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "-1", "is not a number of seconds above 0"),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "nan", "is not a number of seconds above 0"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "-1", "is not a whole number above 0"),
        ("OTEL_BSP_SCHEDULE_DELAY", "1.5", "is not a whole number above 0"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "5000", "is more than OTEL_BSP_MAX_QUEUE_SIZE (2048)"),
    ],
)
def test_a_value_that_would_lose_every_span_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(ENDPOINT_VARIABLE, COLLECTOR)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigException) as refused:
        tracing_wanted()
    assert refused.value.message == f"{variable}={value!r} {problem}"


def test_a_readable_certificate_is_taken(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    certificate = tmp_path / "ca.pem"
    certificate.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv(ENDPOINT_VARIABLE, "https://collector.example:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", str(certificate))
    assert tracing_wanted() is True
