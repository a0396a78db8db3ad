"""The bounds of a config file, so that any file given to `-c` is refused in one line within a second or two, in
a few megabytes, instead of hanging the start or filling the machine.

MAX_CONFIG_BYTES: pip_services3_expressions' mustache template, which every config goes through, is a pure-Python
tokenizer that slows faster than linearly: 64 KiB of placeholders take 0.6 s (and the file is read twice: once
for the command line's parameter names, once for the config), 256 KiB take 3.7 s, a 1 MB value took 24 s. The
service's own config.yml is 5 KB. A value in the file is bounded by the file; a value given by `-p` or the
environment counts in MAX_FLAT_CHARS wherever the config places it.

MAX_NODES and MAX_FLAT_CHARS: YAML aliases let a 1 KB file describe a document of a billion nodes (9 levels of 9
aliases); PyYAML builds it shared, in a few objects, but ConfigParams then flattens it into one dotted key per
leaf, which grew past a gigabyte. The expanded document is measured first, without expanding it: the service's
config.yml has about 100 nodes and 3 KB of dotted keys and values, so the bounds leave room for any real config
while aliases still serve their purpose (one block of options shared by several components).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_CONFIG_BYTES = 64 * 1024
MAX_NODES = 10_000
MAX_FLAT_CHARS = 1024 * 1024


class ConfigTooLargeError(ValueError):
    """The expanded document is beyond a bound (or refers to itself): the message names the bound."""


@dataclass(frozen=True)
class Extent:
    """What a part of the document becomes once its aliases are expanded and it is flattened to dotted keys: its
    nodes, its leaves (one key each), and the characters of its keys (relative to the part) and values."""

    nodes: int
    leaves: int
    chars: int


def check_extent(document: Any, text_length: Callable[[str], int]) -> Extent:
    """The extent of `document` (YAML or JSON as parsed, its aliases shared), raising ConfigTooLargeError beyond a
    bound; `text_length` gives a string's length as it will be once its parameters are filled in.

    Each distinct part is measured once (an alias is the same object again), so the cost is that of the parsed
    file, not of the expanded document."""
    extents: dict[int, Extent] = {}
    open_parts: set[int] = set()

    def extent(value: Any) -> Extent:
        if not isinstance(value, dict | list):
            return Extent(1, 1, text_length(value if isinstance(value, str) else str(value)))
        if id(value) in extents:
            return extents[id(value)]
        if id(value) in open_parts:
            raise ConfigTooLargeError("an alias to a node that contains it")
        open_parts.add(id(value))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        entries = [(text_length(str(key)), item) for key, item in items]
        nodes, leaves, chars = 1, 0, 0
        for key_length, item in entries:
            part = extent(item)
            nodes += part.nodes + 1  # the key's node too
            leaves += part.leaves
            chars += part.leaves * (key_length + 1) + part.chars  # each leaf's key is `key.` + its own
            if nodes > MAX_NODES:
                raise ConfigTooLargeError(
                    f"more than {MAX_NODES:,} nodes once its YAML aliases are expanded (the limit)"
                )
            if chars > MAX_FLAT_CHARS:
                raise ConfigTooLargeError(
                    f"more than {MAX_FLAT_CHARS:,} characters of keys and values once its YAML aliases are expanded "
                    "and its parameters filled in (the limit)"
                )
        open_parts.discard(id(value))
        extents[id(value)] = Extent(nodes, leaves, chars)
        return extents[id(value)]

    return extent(document)
