"""What build of the service runs: its version, from one source (the service's project metadata, the `[project]`
table of its pyproject.toml), and the source revision it was built from.

`run.py --version`, /status, the `<name>_build_info` metric and the spans' `service.version` all say what this module
reads once, at the start (ChassisProcess declares it in `identity`).
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import os
import platform
import re
import subprocess
import tomllib
from pathlib import Path

from pip_services3_commons.errors import ConfigException

from microservice_chassis.process import identity
from microservice_chassis.process.config_reader import read_text
from microservice_chassis.process.parameters import shown

# Set by the image (deploy/Dockerfile's REVISION build argument): an image has no git checkout to ask.
REVISION_VARIABLE = "SERVICE_REVISION"
UNKNOWN_REVISION = "unknown"
# What a version and a revision may be: they are printed, served, put in a metric label and an image tag as they are.
# A version is a canonical public PEP 440 version (the regular expression of PEP 440's Appendix B without its epoch:
# 1.0.0, 2.1rc1, 1.0.post1.dev2; no local `+`, which no image tag may hold), 64 characters at most; a revision a
# commit, a tag or a build number. (packaging's Version is not used: its import fails where sys.version_info is faked,
# as the test of a newer Python does.)
VERSION = re.compile(
    r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*((a|b|rc)(0|[1-9][0-9]*))?(\.post(0|[1-9][0-9]*))?(\.dev(0|[1-9][0-9]*))?"
)
MAX_VERSION = 64
REVISION = re.compile(r"[0-9A-Za-z._-]{1,64}")
# A pyproject.toml is a few KiB; tomllib's time grows with the square of a dotted key's parts (16 KiB of them: 0.85 s).
MAX_PROJECT_BYTES = 16 * 1024
# git answers in milliseconds; a hung one (a network file system) must not hold the start.
GIT_TIMEOUT = 2.0


def read_version(project_path: Path) -> str:
    """The `version` of the `[project]` table of `project_path` (PEP 621), read as the config file is (bounded, a
    FIFO or a device refused unread); a ConfigException in one line naming the file otherwise."""
    text = read_text(None, str(project_path), "Project file", MAX_PROJECT_BYTES)
    try:
        project = tomllib.loads(text).get("project")
    except (tomllib.TOMLDecodeError, RecursionError) as error:  # RecursionError: arrays nested thousands deep
        raise ConfigException(None, "NO_VERSION", f"Project file {project_path} is not TOML: {error}") from None
    version = project.get("version", "") if isinstance(project, dict) else ""
    if not isinstance(version, str):
        raise ConfigException(
            None,
            "INVALID_VERSION",
            f'{project_path}: version is a {type(version).__name__}, not a string (e.g. version = "1.0.0")',
        )
    if not version.strip():
        raise ConfigException(None, "NO_VERSION", f'{project_path} has no [project] version (e.g. version = "1.0.0")')
    if len(version) > MAX_VERSION or not VERSION.fullmatch(version):
        raise ConfigException(
            None,
            "INVALID_VERSION",
            f"{project_path}: version {shown(version)} is not a canonical PEP 440 version of at most {MAX_VERSION} "
            "characters (e.g. 1.0.0, 2.1rc1, 1.0.post1; no epoch '!' or local '+')",
        )
    return version


def read_revision(directory: Path) -> str:
    """$SERVICE_REVISION when set, else the commit of the git checkout `directory` is in, else "unknown"."""
    given = os.environ.get(REVISION_VARIABLE, "").strip()
    if given and not REVISION.fullmatch(given):
        problem = "is not a revision (1-64 letters, digits, '.', '_', '-')"
        raise ConfigException(None, "INVALID_REVISION", f"{REVISION_VARIABLE}={shown(given)} {problem}")
    if given:
        return given
    try:
        answer = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):  # no git here, or a hung one
        return UNKNOWN_REVISION
    revision = answer.stdout.strip()
    return revision if answer.returncode == 0 and revision else UNKNOWN_REVISION


def properties() -> dict[str, str]:
    """The declared build as /status' `properties` and the build_info metric's labels give it."""
    return {"version": identity.version(), "revision": identity.revision(), "python": platform.python_version()}


def version_line() -> str:
    """`hello-world 1.0.0 (revision 2a792d22b91f, Python 3.11.7)`, as `run.py --version` prints it."""
    build = properties()
    return f"{identity.name()} {build['version']} (revision {build['revision']}, Python {build['python']})"
