"""The rules of a name, as the controller enforces them, every client checks what no transport could carry, and
every API document and the DEFAULT_NAME parameter state them."""

import re

from pip_services3_commons.errors import BadRequestException

MAX_NAME_LENGTH = 256
# The whitespace str.strip() removes, without the control characters (they are rejected anyway).
_TRIMMED = r" \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# A valid name as a JSON Schema (ECMA-262) pattern: no control characters, at most MAX_NAME_LENGTH once trimmed.
NAME_PATTERN = rf"^[{_TRIMMED}]*[^\x00-\x1f\x7f]{{0,{MAX_NAME_LENGTH}}}[{_TRIMMED}]*$"
NAME_RULES = (
    "Trimmed of surrounding whitespace; missing, null, empty or whitespace-only means the configured default name. "
    f"No control characters (U+0000-U+001F, U+007F) anywhere (NAME_HAS_CONTROL_CHARACTERS); at most "
    f"{MAX_NAME_LENGTH} characters after trimming (NAME_TOO_LONG); Unicode text, no lone surrogate "
    "(INVALID_ENCODING)."
)
# Lone surrogates (U+D800-U+DFFF): not Unicode text, no UTF-8 encodes them, so no transport could answer them.
SURROGATES = re.compile("[\ud800-\udfff]")
NOT_UNICODE = "must be Unicode text (no lone surrogates)"
# C0 controls and DEL: they would let a name forge log lines or terminal output.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f]")


def has_surrogates(name: str) -> bool:
    return not name.isascii() and bool(SURROGATES.search(name))  # isascii: O(1), most names


def name_fault(name: str) -> tuple[str, str] | None:
    """The (code, rule) a name breaks, first found first, or None: the one home of the rules of a greeted name,
    of the configured default name and of the DEFAULT_NAME parameter alike (NAME_RULES states them)."""
    if CONTROL_CHARACTERS.search(name):
        return "NAME_HAS_CONTROL_CHARACTERS", "must not contain control characters"
    if has_surrogates(name):
        return "INVALID_ENCODING", NOT_UNICODE
    if len(name.strip()) > MAX_NAME_LENGTH:
        return "NAME_TOO_LONG", f"must be at most {MAX_NAME_LENGTH} characters"
    return None


def check_name_argument(name: object, correlation_id: str | None = None) -> None:
    """Refuses, before any call, a name no implementation could greet whatever its rules: one that is not a string
    (INVALID_NAME_TYPE; None is allowed: the default name) or not Unicode text (INVALID_ENCODING).

    Every client checks it before calling, so all of them refuse such a name the same way (an HTTP client could not
    even send it: a number became "123" in a query and INVALID_DATA in a body, a surrogate a 500).
    """
    if name is not None and not isinstance(name, str):
        raise BadRequestException(correlation_id, "INVALID_NAME_TYPE", "Name must be a string or None").with_details(
            "type", type(name).__name__
        )
    if name is not None and has_surrogates(name):
        raise BadRequestException(correlation_id, "INVALID_ENCODING", f"Name {NOT_UNICODE}")
