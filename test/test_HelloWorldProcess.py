"""The container as run.py builds it: config.yml read, components created, referenced and opened."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from microservice_chassis.http.options import ACCESS_LOG_LEVELS
from microservice_chassis.log.line_format import LEVELS
from microservice_chassis.process import identity
from microservice_chassis.process.config_reader import read_config
from microservice_chassis.process.parameters import host_problem, log_level_problem
from microservice_chassis.testing import metric, wait_until_serving
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import BadRequestException
from pip_services3_commons.refer import Descriptor
from pip_services3_commons.run import IOpenable
from pip_services3_components.log import LogLevel, LogLevelConverter
from pip_services3_container.config import ContainerConfig

from HelloWorldController import HelloWorldController
from HelloWorldProcess import CONFIG_PATH, HelloWorldProcess, name_problem
from HelloWorldRestService import HelloWorldRestService
from support import ObservedProcess, configured_descriptors, opened_process


@pytest.fixture
def process(port: int) -> Iterator[ObservedProcess]:
    with opened_process(port) as process:
        yield process


def test_config_is_valid_yaml_listing_the_components() -> None:
    kinds = {(d.get_group(), d.get_type()) for d in configured_descriptors()}
    assert kinds == {
        ("chassis", "swagger-service"),
        ("chassis", "tracer"),
        ("chassis", "metrics-service"),
        ("chassis", "counters"),
        ("chassis", "log-output"),
        ("pip-services", "context-info"),
        ("pip-services", "logger"),
        ("pip-services", "counters"),
        ("hello-world", "controller"),
        ("chassis", "endpoint"),
        ("hello-world", "service"),
        ("pip-services", "heartbeat-service"),
        ("pip-services", "status-service"),
    }


def test_every_configured_component_is_created_and_opened(process: ObservedProcess) -> None:
    references = process.references
    assert references is not None
    for descriptor in configured_descriptors():
        component = references.get_one_required(descriptor)
        if isinstance(component, IOpenable):
            assert component.is_open(), descriptor


def test_components_are_configured_and_referenced(process: ObservedProcess, port: int) -> None:
    url = f"http://127.0.0.1:{port}"
    references = process.references
    assert references is not None
    controller = references.get_one_required(Descriptor("hello-world", "controller", "*", "*", "1.0"))
    service = references.get_one_required(Descriptor("hello-world", "service", "http", "*", "1.0"))
    assert isinstance(controller, HelloWorldController)
    assert isinstance(service, HelloWorldRestService)
    assert controller.greeting(None) == "Hello, Tester!"  # configured: DEFAULT_NAME
    # ...and the one the service calls: its answer is that controller's.
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == "Hello, Tester!"


def test_closing_closes_every_component(port: int) -> None:
    with opened_process(port) as process:
        assert process.references is not None
        openables = [c for c in process.references.get_all() if isinstance(c, IOpenable)]
    assert openables
    assert not any(c.is_open() for c in openables)


def test_each_greeting_is_counted_exactly_once(process: ObservedProcess, port: int) -> None:
    """Log and Prometheus counters both move by exactly N for N calls (the library's shared list made it 6N)."""
    url, labels = f"http://127.0.0.1:{port}", {"service": "hello_world", "command": "greeting"}
    assert process.references is not None
    (log_counters,) = process.references.get_optional(Descriptor("pip-services", "counters", "log", "*", "1.0"))

    def counted() -> tuple[int, float]:
        logged = sum(c.count for c in log_counters.get_all() if c.name == "hello_world.greeting.exec_count")
        return logged, metric(url, "pipservices_exec_total", **labels)

    before = counted()
    calls = 7
    for _ in range(calls):
        assert requests.get(f"{url}/hello_world/greeting", timeout=5).status_code == 200
    assert counted() == (before[0] + calls, before[1] + calls)


def test_metrics_count_rejections_as_errors_and_log_them_at_info(
    process: ObservedProcess, port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """exec_count counts every call, exec_errors the rejected ones, exec_time times each once; a rejection is one
    INFO line, no ERROR."""
    url = f"http://127.0.0.1:{port}"
    labels = {"service": "hello_world", "command": "greeting"}
    names = ("pipservices_exec_total", "pipservices_exec_errors_total", "pipservices_exec_duration_seconds_count")
    before = [metric(url, name, **labels) for name in names]
    for name in ("John", "x" * 300, "Ann", "a\nb", "Bob"):
        requests.get(f"{url}/hello_world/greeting", params={"name": name, "correlation_id": "m-1"}, timeout=5)
    assert [metric(url, name, **labels) for name in names] == [before[0] + 5, before[1] + 2, before[2] + 5]
    output = capsys.readouterr()
    assert "[m-1:ERROR" not in output.out + output.err
    assert re.search(r"^\[m-1:INFO:.*Rejected hello_world.greeting: NAME_HAS_CONTROL_CHARACTERS", output.out, re.M)


def test_commandable_calls_are_counted_exactly_and_both_documents_listed(process: ObservedProcess, port: int) -> None:
    url = f"http://127.0.0.1:{port}"
    labels = {"service": "v1/hello_world", "command": "greeting"}
    for body in ({"name": "John"}, {}, {"name": "x" * 300}, ["John"], {"name": "Ann"}):
        requests.post(f"{url}/v1/hello_world/greeting", json=body, timeout=5)
    totals = ("pipservices_exec_total", "pipservices_exec_errors_total", "pipservices_exec_duration_seconds_count")
    assert [metric(url, name, **labels) for name in totals] == [5, 2, 5]
    assert metric(url, "pipservices_exec_total", service="hello_world", command="greeting") == 0
    index = requests.get(f"{url}/swagger/index.html", timeout=5).text
    assert '"url": "/hello_world/swagger"' in index and '"url": "/v1/hello_world/swagger"' in index


def test_removing_the_commandable_entry_from_config_removes_its_routes(port: int, tmp_path: Path) -> None:
    entry = '- descriptor: "hello-world:service:commandable-http:default:1.0"\n  swagger:\n    enable: true\n'
    assert entry in CONFIG_PATH.read_text()
    config = tmp_path / "config.yml"
    config.write_text(CONFIG_PATH.read_text().replace(entry, ""))
    process = HelloWorldProcess()
    process.read_config_from_file(
        None, str(config), ConfigParams.from_tuples("HTTP_HOST", "127.0.0.1", "HTTP_PORT", port)
    )
    process.open(None)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{url}/heartbeat")
        assert requests.post(f"{url}/v1/hello_world/greeting", json={}, timeout=5).status_code == 404
        assert requests.get(f"{url}/hello_world/greeting", timeout=5).status_code == 200
    finally:
        process.close(None)


HOSTILE_VALUES = [
    "yes", "no", "null", "~", "1e3", "0x10", "A #1", "[x]", "{a: b}", "Dr: Who", "- dash", "? q", "| pipe", "> fold",
    "*alias", "&anchor", "!!python/object/apply:os.system ['true']", "%TAG", "@at", "`tick", "'single'",
    '"double"', "back\\slash", "line\nbreak", "tab\there", "  spaced  ", "ünïcødé ✓ 🙂", "{{DEFAULT_NAME}}",
    "{{#unless X}}y{{/unless}}", "a;b=c",
]  # fmt: skip


def component_config(config: ContainerConfig, kind: str) -> ConfigParams:
    (found,) = [c.config for c in config if c.descriptor.get_type() == kind]
    return found


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_parameters_arrive_as_exact_strings_quoted_or_not(value: str) -> None:
    """DEFAULT_NAME sits unquoted in config.yml, CORS_ORIGINS inside quotes: both get the value unchanged."""
    config = read_config(None, str(CONFIG_PATH), ConfigParams.from_tuples("DEFAULT_NAME", value, "CORS_ORIGINS", value))
    assert len(config) == len(configured_descriptors())
    assert component_config(config, "controller").get_as_string("default_name") == value
    assert component_config(config, "endpoint").get_as_string("cors_origins") == value


def test_a_newline_in_a_parameter_cannot_add_a_component() -> None:
    injected = "info\n- descriptor: pip-services:logger:console:default:1.0"
    config = read_config(None, str(CONFIG_PATH), ConfigParams.from_tuples("LOG_LEVEL", injected))
    assert len(config) == len(configured_descriptors())
    assert component_config(config, "logger").get_as_string("level") == injected


def config_yml_parameters() -> dict[str, str]:
    """Each {{NAME}} of config.yml with the default its {{#unless NAME}}...{{/unless}} gives ("" for none)."""
    text = "\n".join(line for line in CONFIG_PATH.read_text().splitlines() if not line.lstrip().startswith("#"))
    names = re.findall(r"{{([A-Z][A-Z0-9_]*)}}", text)
    defaults = dict(re.findall(r"{{#unless ([A-Z][A-Z0-9_]*)}}(.*?){{/unless}}", text))
    return {name: defaults.get(name, "") for name in names}


def test_the_parameter_table_is_what_config_yml_reads() -> None:
    assert {p.name: p.default for p in HelloWorldProcess.parameters} == config_yml_parameters()


def test_accepted_log_levels_are_those_the_logger_and_the_endpoint_know() -> None:
    """LOG_LEVEL and ACCESS_LOG_LEVEL accept the same six names in any case; the libraries read more
    (none, warning, 5...), which the process refuses so that the docs' list is the whole truth."""
    assert LEVELS == ("trace", "debug", "info", "warn", "error", "fatal")
    # The endpoint's levels are LogLevel's names (a plain class of int constants, not an Enum; Python 3.13+ adds the
    # int __firstlineno__ to every class).
    names = {name.lower() for name, value in vars(LogLevel).items() if isinstance(value, int) and name[0] != "_"}
    assert {*ACCESS_LOG_LEVELS} == names
    for name in LEVELS:
        for spelling in (name, name.upper(), name.capitalize()):
            assert log_level_problem(spelling) is None
            assert LogLevelConverter.to_log_level(spelling, None) is not None, spelling
    for name in ("verbose", "garbage", "warnings", "7", "info ", "none", "nothing", "warning", "0", "5"):
        assert log_level_problem(name)


NAMES = ["World", "  padded  ", "x" * 256, f" {'x' * 256} ", "ünï ✓", " ", "\t", "a\nb", "x\x7f", "x" * 257]


@pytest.mark.parametrize("name", NAMES, ids=range(len(NAMES)))
def test_default_name_is_checked_by_the_rules_of_a_name(name: str) -> None:
    """DEFAULT_NAME is refused exactly when the controller refuses the same text as a name, or it is blank."""
    try:
        HelloWorldController().greeting(name)
        refused_as_a_name = False
    except BadRequestException:
        refused_as_a_name = True
    assert (name_problem(name) is not None) == (refused_as_a_name or not name.strip())


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "127.0.0.1", "::", "::1", "fe80::1%eth0", "localhost", "my-host.example.com", "example.com."]
)
def test_an_ip_address_or_host_name_is_a_host(host: str) -> None:
    assert host_problem(host) is None


@pytest.mark.parametrize(
    "host",
    ["a" * 300, "a" * 64 + ".example", "bad host", "-dash.example", "dash-.example", "a..b", "[::1]", "hôte", "a/b"],
    ids=range(9),
)
def test_anything_else_is_not_a_host(host: str) -> None:
    assert host_problem(host)


def test_config_yml_names_the_process_as_the_code_does() -> None:
    """/status shows config.yml's context-info; the log lines, spans and failures show the name the process declares
    (HelloWorldProcess, the one home of the service's name)."""
    HelloWorldProcess()
    config = read_config(None, str(CONFIG_PATH), ConfigParams())
    (info,) = [c.config for c in config if c.descriptor.get_type() == "context-info"]
    assert (info.get_as_string("name"), info.get_as_string("description")) == (identity.name(), identity.description())
