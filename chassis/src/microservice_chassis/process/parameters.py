"""The configuration parameters a service's config.yml reads: what each means, its default and what it accepts.

CHASSIS_PARAMETERS are those of the chassis' components (the endpoint, the log); a service adds its own to them
(ChassisProcess.parameters).

Plain Python, so that run.py checks the command line and the parameters before the slow imports.
"""

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from microservice_chassis.log.line_format import FORMATS, LEVELS

ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::([0-9]{1,5}))?")
# RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, 63 characters at most each.
HOST_NAME_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
MAX_HOST_NAME = 253


def log_level_problem(value: str) -> str | None:
    if value.lower() not in LEVELS:
        return f"is not a log level ({', '.join(LEVELS)})"
    return None


def log_format_problem(value: str) -> str | None:
    return None if value.lower() in FORMATS else f"is not a log format ({', '.join(FORMATS)})"


def boolean_problem(value: str) -> str | None:
    return None if value.lower() in ("true", "false") else "is not true or false (any case)"


def is_port(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9]{1,5}", text)) and 0 < int(text) < 65536


def port_problem(value: str) -> str | None:
    return None if is_port(value) else "is not a port number (1-65535)"


def host_problem(value: str) -> str | None:
    """An IP address, or a host name: the endpoint binds what it resolves to."""
    try:
        ipaddress.ip_address(value)
        return None
    except ValueError:
        pass
    name = value.removesuffix(".")
    if len(name) <= MAX_HOST_NAME and all(HOST_NAME_LABEL.fullmatch(label) for label in name.split(".")):
        return None
    return "is not an IP address or a host name (e.g. 0.0.0.0, 127.0.0.1, ::, localhost)"


def origins_problem(value: str) -> str | None:
    for origin in (text.strip() for text in value.split(",")):
        match = ORIGIN.fullmatch(origin)
        if origin != "*" and not (match and (match.group(2) is None or is_port(match.group(2)))):
            return f"has {shown(origin)}, not an origin (http[s]://host[:port], port 1-65535, or * for any)"
    return None


@dataclass(frozen=True)
class Parameter:
    name: str
    default: str  # as config.yml's {{#unless NAME}}...{{/unless}} gives it; "" for none
    description: str  # Markdown, as in README's configuration table
    problem: Callable[[str], str | None] | None = None  # what is wrong with a value, None when nothing is


# The parameters of the chassis' components, in the order `run.py --help` lists them (before the service's own).
CHASSIS_PARAMETERS = (
    Parameter(
        "HTTP_HOST",
        "0.0.0.0",
        "IP address or host name the HTTP endpoint binds (`127.0.0.1` for local only)",
        host_problem,
    ),
    Parameter("HTTP_PORT", "8080", "port of the HTTP endpoint shared by all services", port_problem),
    Parameter("LOG_LEVEL", "info", f"console log level: {', '.join(LEVELS)} (any case)", log_level_problem),
    Parameter(
        "LOG_FORMAT",
        "text",
        "format of every log line: `text` for a terminal, or `json`, one JSON object per line for a log collector "
        "(time, level, logger, correlation_id, message and the event's own fields); any case",
        log_format_problem,
    ),
    Parameter(
        "CORS_ORIGINS",
        "",
        "comma-separated origins browsers may call from (`https://app.example.com`, `*` for any); "
        "none means no CORS headers at all",
        origins_problem,
    ),
    Parameter(
        "MAINTENANCE",
        "false",
        "`true`: every request is answered 503 with `Retry-After` but liveness (`/heartbeat`) and scrapes "
        "(`/metrics`), readiness (`/status`) included, so the pod leaves the Service without being restarted",
        boolean_problem,
    ),
    Parameter(
        "ACCESS_LOG_LEVEL",
        "debug",
        "level of the one-line-per-request access log (`GET /heartbeat 200 0.4 ms`, under the request's "
        "correlation id), one of LOG_LEVEL's; a 5xx but 503 is always logged at `error`",
        log_level_problem,
    ),
)


def shown(value: str) -> str:
    """`value` quoted for a one-line message, cut when long."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(value)} characters)"


def check_parameters(table: Sequence[Parameter], parameters: Mapping[str, str]) -> None:
    """Raises a ValueError naming the first parameter of `table` whose value is wrong. An empty value means unset
    (config.yml's default applies), as the mustache template reads it."""
    for parameter in table:
        value = parameters.get(parameter.name)
        problem = parameter.problem(value) if value and parameter.problem else None
        if value and problem:
            raise ValueError(f"{parameter.name}={shown(value)} {problem}")
