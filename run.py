"""Starts the hello-world microservice.

    python run.py [-h] [-c FILE] [-p KEY=VALUE]...

Exits 0 after SIGTERM, SIGINT (Ctrl-C) or SIGHUP, whenever it comes; a second SIGTERM or Ctrl-C while
closing, a second or more after the first, ends it at once. A startup failure prints one line and exits 1;
a command-line mistake prints the usage and exits 2. `--help` lists the options and every parameter with its default.
"""

import os
import sys
from types import TracebackType


def stop_before_the_handlers(
    kind: "type[BaseException]", error: BaseException, traceback: "TracebackType | None"
) -> None:
    """Until StopSignals replaces it, Python's own SIGINT handler raises KeyboardInterrupt: a Ctrl-C then
    ends the process as it would later, exit 0 with nothing opened, instead of with a traceback."""
    if issubclass(kind, KeyboardInterrupt):
        try:
            # The service's name (process/ServiceName.py) written out: an import could be interrupted too.
            os.write(2, b"hello-world: SIGINT received: stopped before opening\n")
        finally:
            os._exit(0)
    sys.__excepthook__(kind, error, traceback)


# First of all, so that a signal at any moment from here on stops the process gracefully (before this
# line: see docs/process.md). StopSignals, like PythonVersion, imports on any Python 3.
sys.excepthook = stop_before_the_handlers
from process.StopSignals import StopSignals  # noqa: E402

STOP_SIGNALS = StopSignals()
STOP_SIGNALS.install()
sys.excepthook = sys.__excepthook__

from process import PythonVersion, ServiceName  # noqa: E402

# Checked before anything imports the stack: on 3.10 the import itself fails with a confusing traceback.
PythonVersion.check()


def dependencies_missing(missing: ModuleNotFoundError) -> str:
    return (
        f"{ServiceName.NAME}: {missing} (the dependencies are not installed here). Install them in a venv and run "
        "with it: python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/python run.py"
    )


# Before the slow imports below: no write to a closed stdout or stderr can fail, and a mistake on the
# command line or in a parameter is told at once.
import time  # noqa: E402

from process import LogFormat  # noqa: E402
from process.Streams import drain_standard_streams, guard_standard_streams  # noqa: E402

guard_standard_streams()
try:
    from process.CommandLine import parse_command_line
except ModuleNotFoundError as missing:
    sys.exit(dependencies_missing(missing))
try:
    INVOCATION = parse_command_line()
except ValueError as bad_parameter:
    sys.exit(f"{ServiceName.NAME}: {bad_parameter}")

try:
    from library_fixes.process_exit import exit_at_once, skip_cheroot_version_lookup

    skip_cheroot_version_lookup()
    from HelloWorldProcess import HelloWorldProcess
except ModuleNotFoundError as missing:
    sys.exit(dependencies_missing(missing))


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
    name = ServiceName.NAME
    return LogFormat.line("FATAL", name, message) if LogFormat.is_json() else f"{name}: {message}"


def main() -> int:
    # The library's heartbeat and status services format local time and label it "Z" (UTC):
    # the process runs in UTC, so the label is true whatever the machine's TZ.
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        HelloWorldProcess(STOP_SIGNALS).run(INVOCATION)
    except Exception as error:
        print(startup_failure(describe(error)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    code = main()
    drain_standard_streams()  # what the log still holds, for at most its drain timeout: os._exit runs no atexit
    exit_at_once(code)
