"""Which Python runs this stack, checked before anything imports the stack.

Written for any Python 3 (no syntax newer than 3.6, hence type comments): its whole job is to speak to the wrong one.
"""

import sys

from microservice_chassis.process import identity

# The oldest Python the pinned libraries run on, and the newest this project is tested on (.ci/run tests every
# one of these that the machine has; ../shared/tools/python-matrix the newest three).
OLDEST = (3, 11)
NEWEST_TESTED = (3, 15)


def unsupported_python(version=None, requirements="requirements.txt", platform=None):
    # type: (tuple[int, ...] | None, str, str | None) -> str | None
    """One line saying why this Python cannot run the service and how to get one that can; None when it can.

    Older than 3.11: the pinned libraries need 3.11's syntax and typing. Windows: the service needs a POSIX system
    (SIGHUP, the open-files limit, uvloop). A newer Python than the newest tested is not refused (see
    untested_python): refusing future versions is what left newcomers stranded before.
    """
    if (platform or sys.platform) == "win32":
        return identity.name() + ": Windows cannot run this service (it needs POSIX signals and uvloop); run it in WSL"
    major, minor = (version or sys.version_info)[:2]
    if (major, minor) >= OLDEST:
        return None
    return (
        f"{identity.name()}: Python {major}.{minor} is too old; this service runs on Python {tested_range()}. "
        f"Make a venv with one: python3.12 -m venv .venv && .venv/bin/pip install -r {requirements}"
    )


def untested_python(version=None):
    # type: (tuple[int, ...] | None) -> str | None
    """One warning line for a Python newer than the newest tested, which is let run; None for a tested one."""
    major, minor = (version or sys.version_info)[:2]
    if (major, minor) <= NEWEST_TESTED:
        return None
    return (
        f"{identity.name()}: warning: Python {major}.{minor} is newer than the versions this service is tested on "
        f"({tested_range()}); starting anyway"
    )


def tested_range():
    # type: () -> str
    return f"{OLDEST[0]}.{OLDEST[1]} to {NEWEST_TESTED[0]}.{NEWEST_TESTED[1]}"


def check(requirements="requirements.txt"):
    # type: (str) -> None
    """Refuses an unsupported Python in one line (exit 1), warns on stderr about an untested newer one."""
    refusal = unsupported_python(requirements=requirements)
    if refusal:
        sys.exit(refusal)
    warning = untested_python()
    if warning:
        sys.stderr.write(warning + "\n")


if __name__ == "__main__":
    # A service's README set-up commands start with
    # `PYTHONPATH=chassis/src python3 -m microservice_chassis.process.python_version [REQUIREMENTS]`: a wrong Python
    # is refused in one line before a venv is made and pip spends half a minute failing on it.
    check(requirements=(sys.argv[1:] or ["requirements.txt"])[0])
