"""The running service's name, description and version, as its log lines, spans, metrics and one-line failures give
them.

The service's process container declares them when it is made (ChassisProcess, from the service's own
`super().__init__(name, description)`, as in the tutorial); what is said before that, while run.py starts, is said
in the name of the program (`run.py: ...`), as argparse does.

Plain Python on any Python 3: python_version and startup use it before the libraries load.
"""

import os
import sys

_declared = {}  # type: dict[str, str]


def declare(name, description):
    # type: (str, str) -> None
    """Makes `name` and `description` the service's, for every line and span from now on."""
    _declared.update(name=name, description=description)


def declare_build(version, revision):
    # type: (str, str) -> None
    """Makes `version` and `revision` (process/build_info.py reads them) the service's, for every span and metric."""
    _declared.update(version=version, revision=revision)


def name():
    # type: () -> str
    """The service's name, or the program's (`run.py`) until the service has declared it."""
    return _declared.get("name") or os.path.basename(sys.argv[0] if sys.argv and sys.argv[0] else "python")


def description():
    # type: () -> str
    return _declared.get("description", "")


def version():
    # type: () -> str
    """The service's version (its project metadata's), or "" until the service has declared it."""
    return _declared.get("version", "")


def revision():
    # type: () -> str
    """The source revision the service runs (build_info.read_revision), or "" until the service has declared it."""
    return _declared.get("revision", "")
