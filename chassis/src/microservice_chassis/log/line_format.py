"""The format of every log line the process writes (LOG_FORMAT): `text` for a terminal, `json` for a collector.

text: `[correlation id:LEVEL:2026-01-02T03:04:05.678901Z] message`, one line per event: a fault's stack (or any
other control character a message holds) is written escaped, a newline as `\\n`.
json: one JSON object per line with the fields below (docs/process.md, "Log lines as JSON"); json.dumps escapes
whatever a client sent (ensure_ascii: the line is ASCII, so no control, bidi or separator character reaches the
reader), so client text is not escaped again in that mode (log/client_text.printable only bounds it).

Plain Python, so that the output streams (log/writer.py) format their own lines before the libraries load.
The format is one for the process: the console logger sets it from its config entry (`format`).
"""

import json
import traceback
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TypedDict, Unpack

from microservice_chassis.process import identity
from microservice_chassis.tracing import trace_context

FORMATS = ("text", "json")
# The levels a line may have, least severe first: Pip.Services' LogLevel names but `nothing` (a level no line has;
# the access log may use it to write none). The parameters LOG_LEVEL and ACCESS_LOG_LEVEL accept these, in any case.
LEVELS = ("trace", "debug", "info", "warn", "error", "fatal")
# The fields every JSON line has, in this order (null when unknown); an event's own fields follow them.
CORE_FIELDS = ("time", "level", "logger", "correlation_id", "message")
# Control characters of a text line written as their usual escapes; any other one as \\xNN (see one_line).
LINE_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Fields each JSON line gets from elsewhere, given its correlation id (e.g. a tracer's `trace_id`): called per
# line, in order; a hook returns only the fields it knows.
FIELD_HOOKS: list[Callable[[str | None], Mapping[str, object]]] = []

_json = False


def use(name: str) -> None:
    """Makes every line from now on `name`'s format (one of FORMATS, any case); ValueError for another."""
    global _json
    if name.lower() not in FORMATS:
        raise ValueError(f"{name!r} is not a log format ({', '.join(FORMATS)})")
    _json = name.lower() == "json"


def is_json() -> bool:
    return _json


class Details(TypedDict, total=False):
    """What an event may carry besides its level, correlation id and message (all written by `line`)."""

    logger: str | None  # the part of the process it comes from
    error: BaseException | None  # the failure it reports
    fields: Mapping[str, object] | None  # its data


def line(level: str, correlation_id: str | None, message: str, **details: Unpack[Details]) -> str:
    """One event as one line (no newline) in the process's format; `fields` and `logger` are written in JSON only.

    The text line shows the correlation id, else the logger when one is named, else `---`. A line written within a
    trace names it: JSON's `trace_id` and `span_id`, text's ` trace_id=... span_id=...` suffix; a line with no
    correlation id then has the trace id as one (the endpoint's rule: a trace's id is its correlation id when the
    client gave none, even when the trace began here).
    """
    logger, error, fields = details.get("logger"), details.get("error"), details.get("fields")
    trace = trace_context.current()
    if correlation_id is None and trace is not None:
        correlation_id = trace.trace_id
    if not _json:
        prefix = correlation_id or logger or "---"
        text = f"{message}: {error_text(error)}" if error is not None and message else error_text(error) or message
        suffix = "" if trace is None else f" trace_id={trace.trace_id} span_id={trace.parent_id}"
        return one_line(f"[{prefix}:{level.upper()}:{stamp()}] {text}{suffix}")
    event: dict[str, object] = {
        "time": stamp(),
        "level": level.lower(),
        "logger": logger or identity.name(),
        "correlation_id": correlation_id,
        "message": message,
    }
    if trace is not None:  # OpenTelemetry's log data model names, after the core fields
        event["trace_id"], event["span_id"] = trace.trace_id, trace.parent_id
    for hook in FIELD_HOOKS:
        _add(event, hook(correlation_id))
    if fields:
        _add(event, fields)
    if error is not None:
        event["error"] = error_fields(error)
    return json.dumps(event, ensure_ascii=True, separators=(",", ":"), default=str)


def stamp() -> str:
    """Now, in RFC 3339 with microseconds, in UTC: `2026-01-02T03:04:05.678901Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def error_fields(error: BaseException) -> dict[str, object]:
    """A fault as the JSON field `error`: `type` (the original error's class when known), `message`, `code` (a
    Pip.Services error code, else null) and `stack` (its traceback as text, newlines and all, else null)."""
    message = getattr(error, "message", None) or str(error)
    cause = getattr(error, "cause", None)
    return {
        "type": getattr(error, "original_type", None) or type(error).__name__,
        "message": f"{message} (caused by: {cause})" if cause else message,
        "code": getattr(error, "code", None),
        "stack": stack_of(error),
    }


def stack_of(error: BaseException) -> str | None:
    """The stack a Pip.Services error carries (`stack_trace`), else the traceback of where it was raised."""
    stack = getattr(error, "stack_trace", None)
    if stack:
        return str(stack).rstrip()
    return "".join(traceback.format_exception(error)).rstrip() if error.__traceback__ is not None else None


def error_text(error: BaseException | None) -> str:
    """A fault in a text line as the stock console logger writes it (its message, `Cause by:`, `Stack trace:`), with
    the traceback of a plain Python error too (one_line then escapes the stack's newlines)."""
    if error is None:
        return ""
    message = getattr(error, "message", None) or str(error)
    cause = getattr(error, "cause", None)
    stack = stack_of(error)
    return message + (f" Cause by: {cause}" if cause else "") + (f" Stack trace: {stack}" if stack else "")


def one_line(text: str) -> str:
    """`text` as one line: newlines, carriage returns and tabs as `\\n`, `\\r`, `\\t`, any other character Python
    does not call printable as `\\xNN`/`\\uNNNN`; text that is already printable (the usual line) is kept as is."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else LINE_ESCAPES.get(c) or escape(c) for c in text)


def escape(character: str) -> str:
    """A character as Python writes it in a string literal's escape: `\\x1b`, `\\u2028`, `\\U000e0041`."""
    code = ord(character)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _add(event: dict[str, object], fields: Mapping[str, object]) -> None:
    """Adds `fields` to `event` without replacing a core field (an event's fields cannot fake its time or level)."""
    for name, value in fields.items():
        if name not in CORE_FIELDS:
            event[name] = value
