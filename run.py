"""Starts the hello-world microservice.

    python run.py [-h] [-c CONFIG_FILE] [-p KEY=VALUE]...

Exits 0 after Ctrl-C or SIGTERM; on any startup failure prints one line and exits 1.
"""

import os
import sys
import time

# Checked before anything imports bottle: on 3.13 the import itself fails with a confusing traceback.
if not (3, 11) <= sys.version_info[:2] <= (3, 12):
    sys.exit(
        f"hello-world: Python {sys.version_info.major}.{sys.version_info.minor} is not supported; "
        "this stack supports Python 3.11-3.12 (bottle 0.12 and pip_services3_expressions break on 3.13)"
    )

# Imported only after the version check, on purpose.
from HelloWorldProcess import HelloWorldProcess


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


def main() -> int:
    # Log lines must reach a pipe (tests, docker logs) as they are written, not when a buffer fills.
    sys.stdout.reconfigure(line_buffering=True)
    # The library's heartbeat and status services format local time and label it "Z" (UTC):
    # the process runs in UTC, so the label is true whatever the machine's TZ.
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        HelloWorldProcess().run()
    except Exception as error:
        print(f"hello-world: {describe(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
