"""The start of a service's run.py: its first import, so that a stop signal at any moment of the start stops the
process cleanly, a wrong Python is told in one line, and any startup failure is one line.

    from microservice_chassis.process.startup import Startup

    STARTUP = Startup()
    from OrdersProcess import OrdersProcess
    STARTUP.run(OrdersProcess)

Importing this module sets the interpreter's excepthook before anything else is imported (its one side effect):
until Startup has installed the stop signals, Python's own SIGINT handler raises KeyboardInterrupt, which then
ends the process as a later Ctrl-C would, exit 0 with nothing opened, instead of with a traceback; and until `run`,
a module the service's imports cannot find is one line naming it. Written for any Python 3 up to the class (no
syntax or annotation newer than 3.6): it speaks to the wrong Python too.
"""

import os
import sys
from types import TracebackType


def _until_started(kind: "type[BaseException]", error: BaseException, traceback: "TracebackType | None") -> None:
    if issubclass(kind, KeyboardInterrupt):
        try:
            os.write(2, b"run.py: SIGINT received: stopped before opening\n")  # no import: it could be interrupted too
        finally:
            os._exit(0)
    if issubclass(kind, ModuleNotFoundError):
        sys.exit(
            f"run.py: {error} (the dependencies are not installed here). Install them in a venv and run with it: "
            "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/python run.py"
        )
    sys.__excepthook__(kind, error, traceback)


sys.excepthook = _until_started

import resource  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import TYPE_CHECKING, NoReturn  # noqa: E402

from microservice_chassis.process.stop_signals import StopSignals  # noqa: E402

if TYPE_CHECKING:
    from microservice_chassis.process.container import ChassisProcess

# The least address space (ulimit -v) the runtime lives with: granian's threads reserve their stacks and its jemalloc
# its arenas, mapped though not resident (about 0.9 GB). Below it thread creation fails at random, and jemalloc then
# aborts or floods stderr: measured, 600 MiB aborted, 800 MiB served while writing 11,756 allocator lines, 1 GiB ran
# clean 5 times of 5.
MIN_ADDRESS_SPACE = 1024 * 1024 * 1024


def address_space_problem() -> str | None:
    """Why the address-space limit is too low to run in, or None."""
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY or limit >= MIN_ADDRESS_SPACE:
        return None
    return (
        f"the address-space limit (ulimit -v) is {limit // 2**20} MiB; the service needs at least "
        f"{MIN_ADDRESS_SPACE // 2**20} MiB (its threads' stacks and allocator arenas are mapped, not resident)"
    )


class Startup:
    """Hears the stop signals from now on, checks the Python, guards the output streams; then `run` makes and runs
    the service's process container and exits."""

    def __init__(self) -> None:
        self.stop_signals = StopSignals()
        self.stop_signals.install()
        from microservice_chassis.process import identity, python_version  # after the handlers: may be interrupted

        # Checked before anything imports the stack: on 3.10 the import itself fails with a confusing traceback.
        python_version.check()
        if problem := address_space_problem():
            sys.exit(f"{identity.name()}: {problem}")
        # Before the slow imports: no write to a closed stdout or stderr can fail from here on.
        from microservice_chassis.library_fixes.process_exit import skip_cheroot_version_lookup

        from microservice_chassis.process.streams import guard_standard_streams

        guard_standard_streams()
        skip_cheroot_version_lookup()

    def run(self, make_process: "Callable[[StopSignals], ChassisProcess]") -> NoReturn:
        """Makes the process container, reads the command line, runs it until a stop signal, then exits: 0 after a
        stop signal, 1 after a startup failure (one line), 2 after a mistake on the command line (the usage)."""
        from microservice_chassis.library_fixes.process_exit import exit_at_once

        from microservice_chassis.process.streams import drain_standard_streams

        sys.excepthook = sys.__excepthook__
        # The library's heartbeat and status services format local time and label it "Z" (UTC):
        # the process runs in UTC, so the label is true whatever the machine's TZ.
        os.environ["TZ"] = "UTC"
        time.tzset()
        try:
            process = make_process(self.stop_signals)
            invocation = process.parse_command_line()
            process.run(invocation)
            code = 0
        except Exception as error:
            print(startup_failure(describe(error)), file=sys.stderr)
            code = 1
        drain_standard_streams()  # what the log still holds, for at most its drain timeout: os._exit runs no atexit
        exit_at_once(code)


def describe(error: BaseException) -> str:
    """Flattens an error and its causes into one line, e.g. "Opening REST service failed: [Errno 98] ..."."""
    parts: list[str] = []
    cause: object = error
    while cause is not None:
        text = " ".join(str(cause).split()) or type(cause).__name__
        if not any(text in part for part in parts):  # a wrapper often repeats its cause's text
            parts.append(text)
        # Pip.Services errors keep their cause in `.cause`; plain Python ones in `__cause__`.
        cause = getattr(cause, "cause", None) or getattr(cause, "__cause__", None)
    return ": ".join(parts)


def startup_failure(message: str) -> str:
    """The one line of a startup failure: `<service name>: message`, or a FATAL event once the config has made the
    log JSON (a failure before that, such as the config file's own, is told in text)."""
    from microservice_chassis.log import line_format
    from microservice_chassis.process import identity

    name = identity.name()
    return line_format.line("FATAL", name, message) if line_format.is_json() else f"{name}: {message}"
