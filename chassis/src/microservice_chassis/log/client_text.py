"""The one escaping policy for text a client sent, wherever it reaches a log line (paths, methods, names,
error messages): escaped, never dropped, and bounded."""

from typing import overload

from microservice_chassis.log import line_format

# The longest text a client sent (or a message quoting it: an unexpected property's name, a path) that the service
# repeats, in an error answer's message or detail and in a log line: it must not come back or be logged unbounded.
MAX_CLIENT_TEXT = 300


@overload
def bounded(text: str, limit: int = MAX_CLIENT_TEXT) -> str: ...
@overload
def bounded(text: None, limit: int = MAX_CLIENT_TEXT) -> None: ...
def bounded(text: str | None, limit: int = MAX_CLIENT_TEXT) -> str | None:
    """`text` cut to `limit` characters, "…" marking a cut (within the limit)."""
    return text if text is None or len(text) <= limit else text[: limit - 1] + "…"


def printable(text: str, limit: int = MAX_CLIENT_TEXT) -> str:
    """`text` made safe to log, bounded to `limit` characters before escaping.

    In text lines, every character Python does not call printable is written as an escape (\\x1b, \\u2028,
    \\u202e, \\U000e0041) and a backslash doubled, so that an escape in the log always means a character the client
    sent. Not printable: C0 and C1 controls and DEL (they drive the reader's terminal), the line and paragraph
    separators (Python's splitlines and JavaScript break lines at them), the invisible format characters that turn
    or hide text (bidi controls, zero-width characters, tags, BOM), spaces other than " ". In JSON lines the text is
    only cut: json.dumps escapes it (see process/line_format.py), and escaping it here too would double every escape.
    """
    text = bounded(text, limit)
    if line_format.is_json():
        return text
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    return text if text.isprintable() else "".join(c if c.isprintable() else line_format.escape(c) for c in text)
