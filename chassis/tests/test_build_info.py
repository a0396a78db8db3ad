"""The build a service declares: its version from its project metadata, refused in one line when missing, and the
revision from the image's variable, else from git, else "unknown"."""

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


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, "Cannot read the version from {path}: [Errno 2] No such file or directory"),
        ("[project\n", "Cannot read the version from {path}: Expected ']'"),
        ('[tool.x]\nversion = "1"\n', "{path} has no [project] version"),
        ("[project]\nversion = 1\n", "{path} has no [project] version"),
        ('[project]\nversion = " "\n', "{path} has no [project] version"),
    ],
    ids=["missing", "not-toml", "no-project-table", "not-a-string", "blank"],
)
def test_no_version_is_one_line_naming_the_file(tmp_path: Path, text: str | None, problem: str) -> None:
    project = tmp_path / "pyproject.toml"
    if text is not None:
        project.write_text(text)
    with pytest.raises(ConfigException) as refused:
        read_version(project)
    assert refused.value.message.startswith(problem.format(path=project)) and "\n" not in refused.value.message


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
