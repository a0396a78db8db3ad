"""`python run.py`'s parameters and command line: -p, environment variables, -c, --help, and the mistakes it names."""

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from microservice_chassis.testing import assert_one_line_failure

from support import ROOT, RunningProcess

Start = Callable[..., tuple[RunningProcess, str]]
RunToExit = Callable[..., subprocess.CompletedProcess[str]]


def test_p_parameter_applies(start_process: Start) -> None:
    _, url = start_process("-p", "DEFAULT_NAME=Bob")
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == "Hello, Bob!"


def test_environment_variable_applies(start_process: Start) -> None:
    _, url = start_process(DEFAULT_NAME="Alice")
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == "Hello, Alice!"


def test_c_overrides_the_config_file(start_process: Start, tmp_path: Path) -> None:
    config = (Path(__file__).parent.parent / "config.yml").read_text().replace("HelloWorld microservice", "Custom")
    (tmp_path / "custom.yml").write_text(config)
    _, url = start_process("-c", "custom.yml")
    assert requests.get(f"{url}/status", timeout=5).json()["description"] == "Custom"


@pytest.mark.parametrize("value", ["yes", "Dr: Who #1", "line \"two\" 'ünï✓' {{DEFAULT_NAME}} [x] &a *b"])
def test_a_hostile_environment_value_arrives_as_that_exact_string(start_process: Start, value: str) -> None:
    _, url = start_process(DEFAULT_NAME=value)
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == f"Hello, {value}!"


def test_a_p_value_is_taken_literally(start_process: Start) -> None:
    _, url = start_process("-p", "DEFAULT_NAME=a=b; c: #d")
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == "Hello, a=b; c: #d!"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOG_LEVEL", "verbose"),
        ("LOG_LEVEL", "garbage"),
        ("LOG_LEVEL", "info\n- descriptor: pip-services:logger:console:default:1.0"),
        ("ACCESS_LOG_LEVEL", "loud"),
        ("HTTP_PORT", "http"),
        ("HTTP_PORT", "70000"),
        ("CORS_ORIGINS", "example.com"),
        ("CORS_ORIGINS", "https://ok.example.com,https://bad.example.com/path"),
        ("CORS_ORIGINS", "https://a.example:99999"),
        ("CORS_ORIGINS", "https://ok.example.com,http://a.example:0"),
        ("LOG_LEVEL", "none"),
        ("LOG_LEVEL", "5"),
        ("LOG_LEVEL", "warning"),
        ("ACCESS_LOG_LEVEL", "none"),
        ("ACCESS_LOG_LEVEL", "0"),
        ("DEFAULT_NAME", " "),
        ("DEFAULT_NAME", "two\nlines"),
        ("DEFAULT_NAME", "tab\tinside"),
        ("DEFAULT_NAME", "x" * 257),
        ("HTTP_HOST", "bad host"),
        ("HTTP_HOST", "-dash.example"),
        ("HTTP_HOST", "a" * 64 + ".example"),
    ],
    ids=lambda value: value if len(value) < 30 else f"{value[:20]}...",
)
def test_a_bad_parameter_value_exits_1_with_one_line_naming_it(
    run_to_exit: RunToExit, port: int, name: str, value: str
) -> None:
    result = run_to_exit(**{"HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(port), name: value})
    assert_one_line_failure(result, f"{name}={value!r}" if len(value) < 60 else f"{name}={value[:20]!r}"[:-1])


def test_a_long_bad_value_is_named_in_one_short_line(run_to_exit: RunToExit, port: int) -> None:
    """A 300-character host failed inside the idna codec ("label too long"), without naming HTTP_HOST."""
    result = run_to_exit(HTTP_HOST="a" * 300, HTTP_PORT=str(port))
    assert_one_line_failure(result, "HTTP_HOST='aaaa", "(300 characters)", "not an IP address or a host name")
    assert len(result.stderr) < 200


def test_a_default_name_of_bytes_that_are_not_utf_8_is_named_in_one_line(run_to_exit: RunToExit, port: int) -> None:
    """It failed inside the controller's configure, in a line naming a component reference, not DEFAULT_NAME."""
    result = run_to_exit(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), DEFAULT_NAME="caf\udce9")  # the byte 0xE9
    assert_one_line_failure(result, "DEFAULT_NAME=", "not valid text")


def test_a_long_bad_origin_is_cut_in_the_message(run_to_exit: RunToExit, port: int) -> None:
    result = run_to_exit(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), CORS_ORIGINS="x" * 5000)
    assert_one_line_failure(result, "CORS_ORIGINS=")
    assert len(result.stderr) < 400


def test_an_empty_environment_variable_does_not_hide_a_p_value(start_process: Start) -> None:
    """Containers often export parameters empty; an empty value means unset, so -p applies."""
    _, url = start_process("-p", "DEFAULT_NAME=Bob", DEFAULT_NAME="")
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == "Hello, Bob!"


@pytest.mark.parametrize(("name", "value"), [("LOG_LEVEL", "WARN"), ("ACCESS_LOG_LEVEL", "Trace")])
def test_log_levels_are_read_in_any_case(start_process: Start, name: str, value: str) -> None:
    process, _ = start_process(**{name: value})
    assert process.stop() == 0


def test_default_name_is_trimmed(start_process: Start) -> None:
    _, url = start_process(DEFAULT_NAME=f"  {'x' * 256}  ")
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == f"Hello, {'x' * 256}!"


@pytest.mark.parametrize("key", ["UNKNOWN", "HTTP_PROT", "http_port"])
def test_a_p_key_the_config_does_not_read_is_a_command_line_mistake(
    run_to_exit: RunToExit, port: int, key: str
) -> None:
    """The template ignores a name it has no placeholder for: `-p HTTP_PROT=9000` started on the default port."""
    result = run_to_exit("-p", f"{key}={port}", HTTP_HOST="127.0.0.1", HTTP_PORT=str(port))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("usage: run.py")
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(f"run.py: error: -p {key}: ") and "config.yml" in last_line


def test_p_keys_are_those_of_the_config_file_given(
    start_process: Start, run_to_exit: RunToExit, tmp_path: Path
) -> None:
    config = (ROOT / "config.yml").read_text().replace("{{DEFAULT_NAME}}", "{{GREETED}}")
    (tmp_path / "custom.yml").write_text(config.replace("{{#unless DEFAULT_NAME}}", "{{#unless GREETED}}"))
    result = run_to_exit("-c", "custom.yml", "-p", "DEFAULT_NAME=Zed")
    assert result.returncode == 2
    assert (
        result.stderr.strip().splitlines()[-1]
        == "run.py: error: -p DEFAULT_NAME: custom.yml has no parameter DEFAULT_NAME"
    )
    _, url = start_process("-c", "custom.yml", "-p", "GREETED=Zed")
    assert requests.get(f"{url}/hello_world/greeting", timeout=5).json() == "Hello, Zed!"


def test_environment_variables_the_config_does_not_read_are_ignored(start_process: Start) -> None:
    process, _ = start_process(HTTP_PROT="9000", UNKNOWN="1")
    assert process.stop() == 0


@pytest.mark.parametrize(
    "args",
    [["--port", "18323"], ["--bogus"], ["-p"], ["-p", "FOO"], ["-p", "=x"], ["-c"], ["extra"], ["--conf", "x.yml"]],
    ids=" ".join,
)
def test_a_command_line_mistake_prints_the_usage_and_exits_2(
    run_to_exit: RunToExit, port: int, args: list[str]
) -> None:
    result = run_to_exit(*args, HTTP_HOST="127.0.0.1", HTTP_PORT=str(port))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("usage: run.py")
    assert result.stderr.strip().splitlines()[-1].startswith("run.py: error: ")


def help_parameters(text: str) -> list[tuple[str, str, str]]:
    """(name, default, description) of each parameter `--help` lists."""
    section = text.split("parameters (")[1].split("\n", 1)[1]
    entries = re.findall(r"^  (\w+) +default (.*)\n((?:    .*\n?)+)", section, re.M)
    return [(name, default, " ".join(description.split())) for name, default, description in entries]


def readme_parameters() -> list[tuple[str, str, str]]:
    """(name, default, description) of each row of README's configuration table, without Markdown."""
    section = (ROOT / "README.md").read_text().split("\n## Configuration\n")[1].split("\n## ")[0]
    rows = re.findall(r"^\| `(\w+)` \| (.*?) \| (.*) \|$", section, re.M)
    return [(name, default.strip("`"), description.replace("`", "")) for name, default, description in rows]


def test_help_lists_the_options_and_every_parameter_as_readme_does(run_to_exit: RunToExit) -> None:
    result = run_to_exit("--help")
    assert result.returncode == 0
    # Python 3.13's argparse names the metavar once (-c, --config FILE), older ones after each flag (-c FILE, ...).
    for short, long, metavar in (("-c", "--config", "FILE"), ("-p", "--param", "KEY=VALUE"), ("-h", "--help", "")):
        (line,) = (line for line in result.stdout.splitlines() if re.match(f"  {short}[ ,]", line))
        assert f", {long}" in line
        assert metavar in line
    listed = help_parameters(result.stdout)
    assert {name for name, _, _ in listed} >= {"HTTP_HOST", "HTTP_PORT", "LOG_LEVEL", "DEFAULT_NAME"}
    assert listed == readme_parameters()
