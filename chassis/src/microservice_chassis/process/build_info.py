"""What build of the service runs: its version, from one source (the service's project metadata, the `[project]`
table of its pyproject.toml), and the source revision it was built from.

`run.py --version`, /status, the `<name>_build_info` metric and the spans' `service.version` all say what this module
reads once, at the start (ChassisProcess declares it in `identity`).
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import os
import platform
import subprocess
import tomllib
from pathlib import Path

from pip_services3_commons.errors import ConfigException

from microservice_chassis.process import identity

# Set by the image (deploy/Dockerfile's REVISION build argument): an image has no git checkout to ask.
REVISION_VARIABLE = "SERVICE_REVISION"
UNKNOWN_REVISION = "unknown"
# git answers in milliseconds; a hung one (a network file system) must not hold the start.
GIT_TIMEOUT = 2.0


def read_version(project_path: Path) -> str:
    """The `version` of the `[project]` table of `project_path` (PEP 621): one line naming what is wrong otherwise."""
    try:
        with project_path.open("rb") as project:
            version = tomllib.load(project).get("project", {}).get("version")
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigException(None, "NO_VERSION", f"Cannot read the version from {project_path}: {error}") from None
    if not isinstance(version, str) or not version.strip():
        raise ConfigException(None, "NO_VERSION", f'{project_path} has no [project] version (e.g. version = "1.0.0")')
    return version


def read_revision(directory: Path) -> str:
    """$SERVICE_REVISION when set, else the commit of the git checkout `directory` is in, else "unknown"."""
    given = os.environ.get(REVISION_VARIABLE, "").strip()
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
