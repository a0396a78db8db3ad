"""Which Python runs this stack, checked before anything imports the stack.

Written for any Python 3 (no syntax newer than 3.6): its whole job is to speak to the wrong one.
"""

import sys

SUPPORTED = ((3, 11), (3, 12))


def unsupported_python(version=None, requirements="requirements.txt", platform=None):
    """One line saying why this Python cannot run the service and how to get one that can; None when it can.

    Older than 3.11: the pinned libraries need 3.11's syntax and typing. 3.13 and later: bottle 0.12 imports
    the removed `cgi` module and pip_services3_expressions has an enum bug there. Windows: the service needs a
    POSIX system (SIGHUP, the open-files limit, uvloop).
    """
    if (platform or sys.platform) == "win32":
        return "hello-world: Windows cannot run this service (it needs POSIX signals and uvloop); run it in WSL"
    major, minor = (version or sys.version_info)[:2]
    if (major, minor) in SUPPORTED:
        return None
    reason = "too old" if (major, minor) < SUPPORTED[0] else "too new (bottle 0.12 needs the removed cgi module)"
    return (
        f"hello-world: Python {major}.{minor} is {reason}; this service runs on Python 3.11 or 3.12. "
        f"Make a venv with one: python3.12 -m venv .venv && .venv/bin/pip install -r {requirements}"
    )


if __name__ == "__main__":
    # README's set-up commands start with `python3 -m process.PythonVersion [REQUIREMENTS]`: a wrong Python
    # is refused in one line before a venv is made and pip spends half a minute failing on it.
    sys.exit(unsupported_python(requirements=(sys.argv[1:] or ["requirements.txt"])[0]))
