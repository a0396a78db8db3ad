"""Reads the container config with its {{NAME}} parameters filled by exact strings.

pip_services3_components 3.5.9 pastes parameter values into the config file's text before the YAML is
parsed, so a value was read as YAML: `yes` became True, `A #1` lost its comment, `Dr: Who` broke the
file, a newline added a component. `read_config` gives the mustache template only placeholders made of
letters and digits, parses the YAML, then puts each value back into the parsed strings: every value
arrives exactly as given, in any position of the file (quoted, unquoted, inside a longer string).
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from pip_services3_commons.config import ConfigParams
from pip_services3_components.config import JsonConfigReader, YamlConfigReader
from pip_services3_container.config import ContainerConfig
from pip_services3_expressions.mustache import MustacheTemplate


def placeholders(path: str) -> set[str] | None:
    """The names of the {{NAME}} placeholders of the config file `path`, as the library's template reads
    them; None when the file cannot be read or parsed (reading it later says why, in one line)."""
    try:
        template = MustacheTemplate(Path(path).read_text())
    except Exception:  # any failure here is reported by the real read, in one line
        return None
    names: dict[str, None] = {}
    template.create_variables(names)
    return set(names)


def read_config(correlation_id: str | None, path: str, parameters: Mapping[str, str]) -> ContainerConfig:
    """The container config in `path` (YAML for .yml/.yaml, else JSON, as the library decides), its
    {{NAME}} placeholders filled with the exact strings of `parameters`."""
    nonce = "hwparam" + secrets.token_hex(8)
    placeholders = {}  # a stand-in of letters and digits for each non-empty value: plain text to any parser
    for index, (name, value) in enumerate(parameters.items()):
        placeholders[name] = f"{nonce}n{index}e" if value else ""
    values = {placeholders[name]: str(value) for name, value in parameters.items() if value}
    reader = YamlConfigReader if path.lower().endswith((".yml", ".yaml")) else JsonConfigReader
    parsed = reader.read_config(correlation_id, path, ConfigParams(placeholders))
    pattern = re.compile(nonce + r"n[0-9]+e")

    def restore(text: str | None) -> str | None:
        return pattern.sub(lambda match: values[match.group(0)], text) if text else text

    return ContainerConfig.from_config(ConfigParams({restore(k): restore(v) for k, v in parsed.items()}))
