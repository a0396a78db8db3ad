"""The configuration parameters config.yml reads: what each means, its default and what it accepts.

Plain Python, so that run.py checks the command line and the parameters before the slow imports.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

LOG_LEVELS = "trace, debug, info, warn, error, fatal"
# What pip_services3_components 3.5.9 LogLevelConverter.to_log_level reads, case aside; it reads anything
# else as info. test_HelloWorldProcess checks that the two agree.
LOG_LEVEL_NAMES = frozenset(
    [
        "nothing",
        "none",
        "fatal",
        "error",
        "warn",
        "warning",
        "info",
        "debug",
        "trace",
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
    ]
)
ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")


def log_level_problem(value: str) -> str | None:
    if value.lower() not in LOG_LEVEL_NAMES:
        return f"is not a log level ({LOG_LEVELS})"
    return None


def port_problem(value: str) -> str | None:
    if not re.fullmatch(r"[0-9]{1,5}", value) or not 0 < int(value) < 65536:
        return "is not a port number (1-65535)"
    return None


def origins_problem(value: str) -> str | None:
    for origin in value.split(","):
        if origin.strip() != "*" and not ORIGIN.fullmatch(origin.strip()):
            return f"has {origin.strip()!r}, not an origin (http[s]://host[:port], or * for any)"
    return None


@dataclass(frozen=True)
class Parameter:
    name: str
    default: str  # as config.yml's {{#unless NAME}}...{{/unless}} gives it; "" for none
    description: str  # Markdown, as in README's configuration table
    problem: Callable[[str], str | None] | None = None  # what is wrong with a value, None when nothing is


# The parameters config.yml reads, in README's order. `run.py --help` prints this table and
# test_run.py checks that README's configuration table says the same.
PARAMETERS = (
    Parameter("HTTP_HOST", "0.0.0.0", "address the HTTP endpoint binds (`127.0.0.1` for local only)"),
    Parameter("HTTP_PORT", "8080", "port of the HTTP endpoint shared by all services", port_problem),
    Parameter("LOG_LEVEL", "info", f"console log level: {LOG_LEVELS}", log_level_problem),
    Parameter("DEFAULT_NAME", "World", "the name greeted when a request gives none; any text, taken literally"),
    Parameter(
        "CORS_ORIGINS",
        "",
        "comma-separated origins browsers may call from (`https://app.example.com`, `*` for any); "
        "none means no CORS headers at all",
        origins_problem,
    ),
    Parameter(
        "ACCESS_LOG_LEVEL",
        "debug",
        "level of the one-line-per-request access log (`GET /heartbeat 200 0.4 ms`, under the request's "
        "correlation id); a 5xx is always logged at `error`",
        log_level_problem,
    ),
)


def check_parameters(parameters: Mapping[str, str]) -> None:
    """Raises a ValueError naming the first parameter whose value is wrong. An empty value means unset
    (config.yml's default applies), as the mustache template reads it."""
    for parameter in PARAMETERS:
        value = parameters.get(parameter.name)
        problem = parameter.problem(value) if value and parameter.problem else None
        if problem:
            raise ValueError(f"{parameter.name}={value!r} {problem}")
