"""The build a service declares: its version from its project metadata, refused in one line when missing, and the
revision from the image's variable, else from git, else "unknown"."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from microservice_chassis.process.build_info import REVISION_VARIABLE, read_revision, read_version
from pip_services3_commons.errors import ConfigException


def test_the_version_is_the_project_tables(tmp_path: Path) -> None:
    project = tmp_path / "pyproject.toml"
    project.write_text('[project]\nname = "orders"\nversion = "2.3.4rc1"\n\n[tool.ruff]\nline-length = 120\n')
    assert read_version(project) == "2.3.4rc1"
    project.write_text('[project]\nversion = "1.0.0.post2.dev1"\n')
    assert read_version(project) == "1.0.0.post2.dev1"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, "Project file {path} was not found"),
        ("[project\n", "Project file {path} is not TOML: Expected ']'"),
        ("[project]\nversion = " + "[" * 3000 + "\n", "Project file {path} is not TOML"),
        ('[tool.x]\nversion = "1"\n', "{path} has no [project] version"),
        ('project = "x"\n', "{path} has no [project] version"),
        ("[project]\nversion = 1\n", "{path}: version is a int, not a string"),
        ('[project]\nversion = "banana"\n', "{path}: version 'banana' is not a canonical PEP 440 version"),
        ('[project]\nversion = "1.0+local.7"\n', "{path}: version '1.0+local.7' is not a canonical PEP 440 version"),
        ('[project]\nversion = " "\n', "{path} has no [project] version"),
        ('[project]\nversion = "1.0\\n\\u001b[31mred"\n', "{path}: version '1.0\\n\\x1b[31mred' is not a canonical"),
        (f'[project]\nversion = "{"1" * 65}"\n', "{path}: version '11111"),
        ("# " + "x" * 17_000 + "\n", "Project file {path} is larger than 16 KiB"),
        ("\udcff", "Project file {path} is not UTF-8"),
    ],
    ids=["missing", "not-toml", "nested", "no-project-table", "project-not-a-table", "not-a-string", "not-pep-440",
         "local-version", "blank", "control-characters", "too-long", "too-large", "not-utf-8"],
)  # fmt: skip
def test_no_version_is_one_line_naming_the_file(tmp_path: Path, text: str | None, problem: str) -> None:
    project = tmp_path / "pyproject.toml"
    if text is not None:
        project.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(ConfigException) as refused:
        read_version(project)
    assert refused.value.message.startswith(problem.format(path=project)) and "\n" not in refused.value.message


def test_a_fifo_for_a_project_file_is_refused_unread(tmp_path: Path) -> None:
    """Opened without blocking, as the config file is: a FIFO nobody writes to would hold the start forever."""
    project = tmp_path / "pyproject.toml"
    os.mkfifo(project)
    with pytest.raises(ConfigException) as refused:
        read_version(project)
    assert refused.value.message == f"Project file {project} is not a regular file: it is a FIFO"


@pytest.mark.parametrize("given", ["a\nb", "\x1b[31mred", "r" * 65, "v 1"])
def test_a_revision_that_is_not_one_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str) -> None:
    monkeypatch.setenv(REVISION_VARIABLE, given)
    with pytest.raises(ConfigException) as refused:
        read_revision(tmp_path)
    assert refused.value.message.startswith(f"{REVISION_VARIABLE}='") and "is not a revision" in refused.value.message


def test_the_revision_given_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REVISION_VARIABLE, " 0123abc ")
    assert read_revision(tmp_path) == "0123abc"


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed here")
def test_the_revision_is_the_checkouts_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REVISION_VARIABLE, raising=False)
    assert read_revision(tmp_path) == "unknown"  # not in a checkout (a temporary directory)
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "first"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout
    assert read_revision(tmp_path) == head[:12]
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on the PATH: an image has none
    assert read_revision(tmp_path) == "unknown"
