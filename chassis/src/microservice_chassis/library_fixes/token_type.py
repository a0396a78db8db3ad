"""pip_services3_expressions 3.3.6 `tokenizers/TokenType.py`, as Python 3.12 creates it, on every Python.

The library declares `Unknown = 0,` (a tuple, by a stray comma) before thirteen `auto()` members. Python 3.12
numbers them 1 to 13 after it; Python 3.13+ refuses to increment a tuple and raises `TypeError: unable to
increment (0,)` when the class is created, so pip_services3_components' ConfigReader (through the mustache
templates) cannot be imported; early 3.11 releases (Debian 12's 3.11.2) give every member after `Eol` the value 2,
making them aliases of `Eol`, and the mustache tokenizer then reads config.yml as empty.

The fix: this module stands in for the library's in `sys.modules` before anything imports the library, so the
library's own `from .TokenType import TokenType` finds this class and its file on disk is never executed. Same
member names in the same order, same values as 3.12 gives them (Unknown keeps its tuple: code may compare it).
tests/test_library_fixes.py fails the day upstream removes the comma, so this can be dropped knowingly.
"""

import sys
from enum import Enum

LIBRARY_MODULE = "pip_services3_expressions.tokenizers.TokenType"


class TokenType(Enum):
    """Types (categories) of tokens such as "number", "symbol" or "word"."""

    Unknown = (0,)
    Eof = 1
    Eol = 2
    Float = 3
    Integer = 4
    HexDecimal = 5
    Number = 6
    Symbol = 7
    Quoted = 8
    Word = 9
    Keyword = 10
    Whitespace = 11
    Comment = 12
    Special = 13


def values(kind: type[Enum]) -> dict[str, object]:
    """Each member name, aliases included, with its value."""
    return {name: member.value for name, member in kind.__members__.items()}


def install() -> None:
    """Puts this module in the library's place; refuses, naming the cause, when the library's came first."""
    this = sys.modules[__name__]
    installed = sys.modules.setdefault(LIBRARY_MODULE, this)
    if installed is not this and values(installed.TokenType) != values(TokenType):
        raise ImportError(
            f"{LIBRARY_MODULE} was imported before library_fixes, with its defect: import library_fixes first"
        )
