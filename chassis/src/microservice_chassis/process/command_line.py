"""The command line of run.py, parsed strictly: a mistake gets the usage and exit status 2 (argparse).

pip_services3_container 3.2.5's ProcessContainer ignored what it did not know (`--port 8000`, `-p FOO`,
`-c` without a file all started the service with the defaults) and its help named no parameter.
"""

import argparse
import os
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from microservice_chassis.process import identity
from microservice_chassis.process.config_reader import placeholders
from microservice_chassis.process.environment import VARIABLES
from microservice_chassis.process.parameters import Parameter, check_parameters


@dataclass(frozen=True)
class Invocation:
    """What the command line and the environment ask of the process."""

    config_path: str | None  # None: the service's own config.yml
    parameters: dict[str, str]


class VersionAction(argparse.Action):
    """`--version`: prints `version_line()`, read only when asked (argparse's own takes the text when the parser is
    made, so a project file it cannot read would fail `--help` too)."""

    def __init__(self, option_strings: Sequence[str], dest: str, version_line: Callable[[], str], help: str) -> None:
        super().__init__(option_strings, dest, nargs=0, help=help)
        self._version_line = version_line

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(self._version_line())  # on stdout, as argparse's own version action
        parser.exit()


def key_value(text: str) -> tuple[str, str]:
    """`KEY=VALUE` split at the first `=`; the value is kept literally (`;`, `=`, spaces and all)."""
    key, equals, value = text.partition("=")
    if not equals or not key.strip() or key != key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def parameters_help(table: Sequence[Parameter]) -> str:
    """The parameters with their defaults: the same table as README's configuration section."""
    lines = ["parameters (-p KEY=VALUE or environment variables; the environment wins):"]
    for parameter in table:
        default = parameter.default or "(none)"
        description = parameter.description.replace("`", "")
        lines.append(f"  {parameter.name:<18}default {default}")
        lines += textwrap.wrap(description, width=100, initial_indent=" " * 4, subsequent_indent=" " * 4)
    return "\n".join(lines)


def variables_help() -> str:
    """The environment variables that are not config parameters (process/environment.py)."""
    lines = ["environment variables besides the parameters (tracing: the standard OpenTelemetry ones):"]
    for name, description in VARIABLES:
        lines.append(f"  {name}")
        lines += textwrap.wrap(description, width=100, initial_indent=" " * 4, subsequent_indent=" " * 4)
    return "\n".join(lines)


def parse_command_line(
    table: Sequence[Parameter],
    default_config: Path,
    version_line: Callable[[], str],
    args: Sequence[str] | None = None,
) -> Invocation:
    """Parses `args` (sys.argv's by default) for a service whose parameters are `table`, whose config file is
    `default_config` and whose `--version` prints `version_line()`, and merges the environment into the parameters,
    the environment winning as in ProcessContainer. `--help` and a mistake end here through SystemExit (0 and
    2), as does a `-p` key that the config file has no placeholder for (a typo, which the template would
    ignore); a parameter with a wrong value raises ValueError naming it. The environment is not checked
    for unknown names: it holds many variables that are not meant for the service."""
    command_line = parser(table, version_line)
    options = command_line.parse_args(args)
    config_path = options.config or str(default_config)
    known = placeholders(config_path)
    for key, _ in options.params:
        if known is not None and key not in known:
            command_line.error(f"-p {key}: {options.config or default_config.name} has no parameter {key}")
    # An empty variable means unset (exported empty in many container setups): it does not hide a -p value.
    parameters = {**dict(options.params), **{key: value for key, value in os.environ.items() if value}}
    check_parameters(table, parameters)
    return Invocation(options.config, parameters)


def parser(table: Sequence[Parameter], version_line: Callable[[], str]) -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog="run.py",
        description=textwrap.fill(
            f"Runs the {identity.name()} microservice until SIGTERM, SIGINT (Ctrl-C) or SIGHUP, then closes it and "
            "exits 0; a second SIGTERM or Ctrl-C during the close ends it at once."
            " A startup failure prints one line and "
            "exits 1; a mistake on the command line prints the usage and exits 2. -p may be given many times.",
            width=100,
        ),
        epilog=parameters_help(table) + "\n\n" + variables_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    result.add_argument("--version", action=VersionAction, version_line=version_line, help="show the version and exit")
    result.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        help="the container config (default: config.yml beside run.py)",
    )
    result.add_argument(
        "-p",
        "--param",
        "--params",
        dest="params",
        metavar="KEY=VALUE",
        type=key_value,
        action="append",
        default=[],
        help="a config parameter, repeatable; the value is taken literally",
    )
    return result
