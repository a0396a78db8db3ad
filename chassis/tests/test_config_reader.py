"""The config reader's bounds, at their edges: what is just within is read as before, what is just beyond is refused
in one message naming the file and the limit (test/test_run_config_bounds.py shows the whole process)."""

import os
import re
from pathlib import Path

import pytest
from microservice_chassis.process.config_limits import MAX_CONFIG_BYTES, MAX_FLAT_CHARS, MAX_NODES
from microservice_chassis.process.config_reader import placeholders, read_config
from pip_services3_commons.errors import ConfigException

COMPONENT = '- descriptor: "acme:widget:default:{name}:1.0"\n'


def refusal(path: Path, parameters: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigException) as refused:
        read_config(None, str(path), parameters or {})
    message: str = refused.value.message
    return message


def test_a_file_of_the_size_limit_is_read_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    entry = COMPONENT.format(name="a")
    padded = entry + "#" * (MAX_CONFIG_BYTES - len(entry) - 1) + "\n"
    (tmp_path / "limit.yml").write_text(padded)
    (tmp_path / "over.yml").write_text(padded + "\n")
    assert [str(c.descriptor) for c in read_config(None, str(tmp_path / "limit.yml"), {})] == [
        "acme:widget:default:a:1.0"
    ]
    assert f"over.yml is larger than 64 KiB ({MAX_CONFIG_BYTES:,} bytes), the limit" in refusal(tmp_path / "over.yml")


def test_aliases_are_expanded_within_the_nodes_limit_and_refused_beyond(tmp_path: Path) -> None:
    """One block of options shared by two components (the use aliases have in a config) is read; three levels of
    22 aliases to a list of 22 (10,648 leaves) are refused."""
    shared = "  options: &options {timeout: 5000, retries: 3}\n"
    (tmp_path / "shared.yml").write_text(
        COMPONENT.format(name="a") + shared + COMPONENT.format(name="b") + "  options: *options\n"
    )
    config = read_config(None, str(tmp_path / "shared.yml"), {})
    assert [component.config.get_as_string("options.retries") for component in config] == ["3", "3"]
    levels = ["  l0: &l0 [" + ", ".join(["x"] * 22) + "]\n"]
    levels += [f"  l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 22)}]\n" for n in (1, 2)]
    (tmp_path / "nodes.yml").write_text(COMPONENT.format(name="a") + "".join(levels))
    assert f"nodes.yml has more than {MAX_NODES:,} nodes once its YAML aliases are expanded" in refusal(
        tmp_path / "nodes.yml"
    )


def test_a_long_key_over_many_aliased_leaves_is_refused_by_the_characters_limit(tmp_path: Path) -> None:
    """Few nodes, but each of the 1,100 leaves' dotted key repeats a 1,000-character key (the most YAML allows a
    plain key): 1.1 MB once flattened."""
    leaves = "  leaves: &leaves [" + ", ".join(["x"] * 1100) + "]\n"
    (tmp_path / "key.yml").write_text(COMPONENT.format(name="a") + leaves + f"  {'k' * 1000}: *leaves\n")
    assert f"more than {MAX_FLAT_CHARS:,} characters of keys and values" in refusal(tmp_path / "key.yml")


def test_a_parameter_repeated_by_aliases_counts_at_its_filled_in_length(tmp_path: Path) -> None:
    leaves = "  leaves: &leaves [" + ", ".join(['"{{NAME}}"'] * 100) + "]\n"
    (tmp_path / "param.yml").write_text(COMPONENT.format(name="a") + leaves + "  again: [" + "*leaves, " * 10 + "]\n")
    assert read_config(None, str(tmp_path / "param.yml"), {"NAME": "x" * 900})
    assert f"more than {MAX_FLAT_CHARS:,} characters" in refusal(tmp_path / "param.yml", {"NAME": "x" * 1000})


def test_an_alias_inside_its_own_node_is_refused(tmp_path: Path) -> None:
    (tmp_path / "loop.yml").write_text(COMPONENT.format(name="a") + "  loop: &loop [x, *loop]\n")
    assert "loop.yml has an alias to a node that contains it" in refusal(tmp_path / "loop.yml")


def test_a_python_tag_is_not_built(tmp_path: Path) -> None:
    """SafeLoader: a config is data."""
    (tmp_path / "tag.yml").write_text(COMPONENT.format(name="a") + "  key: !!python/tuple [1, 2]\n")
    assert re.search(r"tag\.yml: .*python/tuple", refusal(tmp_path / "tag.yml"))


def test_json_is_read_within_the_same_bounds(tmp_path: Path) -> None:
    entry = '[{"descriptor": "acme:widget:default:a:1.0", "name": "{{NAME}}"}]'
    (tmp_path / "config.json").write_text(entry)
    assert read_config(None, str(tmp_path / "config.json"), {"NAME": "yes: #1"})[0].config.get("name") == "yes: #1"
    (tmp_path / "large.json").write_text(entry + " " * MAX_CONFIG_BYTES)
    assert "large.json is larger than 64 KiB" in refusal(tmp_path / "large.json")


def test_the_parameter_names_of_a_fifo_are_not_waited_for(tmp_path: Path) -> None:
    """The command line reads the file's parameter names before the config: a FIFO nobody writes to must not
    block it (the config's read then refuses it in one line)."""
    os.mkfifo(tmp_path / "fifo.yml")
    assert placeholders(str(tmp_path / "fifo.yml")) is None
    assert "fifo.yml is not a regular file: it is a FIFO" in refusal(tmp_path / "fifo.yml")
