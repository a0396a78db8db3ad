"""Reads the container config with its {{NAME}} parameters filled by exact strings, within bounds.

pip_services3_components 3.5.9 pastes parameter values into the config file's text before the YAML is
parsed, so a value was read as YAML: `yes` became True, `A #1` lost its comment, `Dr: Who` broke the
file, a newline added a component. `read_config` gives the mustache template only placeholders made of
letters and digits, parses the YAML, then puts each value back into the parsed strings: every value
arrives exactly as given, in any position of the file (quoted, unquoted, inside a longer string).

The library's readers also opened whatever the path named (a FIFO blocked the start forever, /dev/urandom
was read until memory ran out), called a directory or an unreadable file "not found", and expanded YAML
aliases without bound. `read_text` opens only a regular file, without blocking, and reads at most its
bound; `read_config` measures the expanded document before flattening it (config_limits).
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import json
import os
import re
import secrets
import stat
from collections.abc import Mapping
from typing import Any

import yaml
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import ConfigException
from pip_services3_container.config import ContainerConfig
from pip_services3_expressions.mustache import MustacheTemplate

from microservice_chassis.process.config_limits import MAX_CONFIG_BYTES, ConfigTooLargeError, check_extent

# What a path that is not a regular file names, for the one line that refuses it.
FILE_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
}


def read_text(correlation_id: str | None, path: str, what: str = "Config file", limit: int = MAX_CONFIG_BYTES) -> str:
    """The text of the config file `path` (or of another file the start reads, `what` naming it, at most `limit`
    bytes), or a ConfigException saying in one line why not: not found, not a regular file (and what it is), not
    readable, larger than the limit, not UTF-8.

    Opened with O_NONBLOCK so that a FIFO without a writer cannot block the start (it is then refused as not a
    regular file), and read to at most one byte beyond the bound, so that a file growing meanwhile cannot either."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ConfigException(correlation_id, "FILE_NOT_FOUND", f"{what} {path} was not found") from None
    except PermissionError as error:
        raise ConfigException(
            correlation_id, "FILE_NOT_READABLE", f"{what} {path} is not readable: {error.strerror}"
        ) from None
    except OSError as error:
        raise ConfigException(
            correlation_id, "FILE_NOT_READABLE", f"{what} {path} cannot be opened: {error.strerror}"
        ) from None
    try:
        kind = stat.S_IFMT(os.fstat(descriptor).st_mode)
        if kind != stat.S_IFREG:
            raise ConfigException(
                correlation_id,
                "NOT_A_FILE",
                f"{what} {path} is not a regular file: it is {FILE_KINDS.get(kind, 'a special file')}",
            )
        chunks: list[bytes] = []
        size = 0
        while size <= limit and (chunk := os.read(descriptor, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise ConfigException(
            correlation_id, "FILE_NOT_READABLE", f"{what} {path} is not readable: {error.strerror}"
        ) from None
    finally:
        os.close(descriptor)
    if size > limit:
        raise ConfigException(
            correlation_id,
            "FILE_TOO_LARGE",
            f"{what} {path} is larger than {limit // 1024} KiB ({limit:,} bytes), the limit",
        )
    data = b"".join(chunks)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigException(
            correlation_id, "NOT_UTF8", f"{what} {path} is not UTF-8: {error.reason} at byte {error.start:,}"
        ) from None


def placeholders(path: str) -> set[str] | None:
    """The names of the {{NAME}} placeholders of the config file `path`, as the library's template reads
    them; None when the file cannot be read or parsed (reading it later says why, in one line)."""
    try:
        template = MustacheTemplate(read_text(None, path))
    except Exception:  # any failure here is reported by the real read, in one line
        return None
    names: dict[str, None] = {}
    template.create_variables(names)
    return set(names)


def parse(correlation_id: str | None, path: str, text: str) -> Any:
    """The document in `text`: YAML for .yml/.yaml, else JSON, as the library decides.

    YAML through SafeLoader (the library used FullLoader): a config is data, and SafeLoader builds only plain
    YAML types, none of the Python objects whose attributes or str() the flattening would walk unmeasured."""
    try:
        if path.lower().endswith((".yml", ".yaml")):
            return yaml.load(text, Loader=yaml.SafeLoader)
        return json.loads(text)
    except (yaml.YAMLError, ValueError, RecursionError) as error:
        raise ConfigException(
            correlation_id, "READ_FAILED", f"Failed reading configuration {path}: {error}"
        ).with_cause(error) from None


def read_config(correlation_id: str | None, path: str, parameters: Mapping[str, str]) -> ContainerConfig:
    """The container config in `path`, its {{NAME}} placeholders filled with the exact strings of `parameters`;
    refused in one line beyond the bounds of config_limits."""
    nonce = "hwparam" + secrets.token_hex(8)
    placeholders = {}  # a stand-in of letters and digits for each non-empty value: plain text to any parser
    for index, (name, value) in enumerate(parameters.items()):
        placeholders[name] = f"{nonce}n{index}e" if value else ""
    values = {placeholders[name]: str(value) for name, value in parameters.items() if value}
    text = read_text(correlation_id, path)
    try:
        templated = MustacheTemplate(text).evaluate_with_variables(ConfigParams(placeholders))
    except Exception as error:  # the library's MustacheException, with the line and column
        raise ConfigException(
            correlation_id, "READ_FAILED", f"Failed reading configuration {path}: {error}"
        ).with_cause(error) from None
    document = parse(correlation_id, path, templated)
    pattern = re.compile(nonce + r"n[0-9]+e")

    def restored_length(text: str) -> int:
        return len(text) + sum(len(values[match.group(0)]) - len(match.group(0)) for match in pattern.finditer(text))

    try:
        check_extent(document, restored_length)
    except ConfigTooLargeError as error:
        raise ConfigException(correlation_id, "CONFIG_TOO_LARGE", f"Config file {path} has {error}") from None

    def restore(text: str | None) -> str | None:
        return pattern.sub(lambda match: values[match.group(0)], text) if text else text

    parsed = ConfigParams.from_value(document)
    return ContainerConfig.from_config(ConfigParams({restore(k): restore(v) for k, v in parsed.items()}))
