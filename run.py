"""Starts the hello-world microservice: `python run.py --help` lists its options and parameters.

It runs until SIGTERM, SIGINT (Ctrl-C) or SIGHUP, then closes and exits 0; a startup failure is one line and exit 1
(the chassis' Startup: chassis/docs/process.md).
"""

try:
    from microservice_chassis.process.startup import Startup  # first: a stop signal from here on stops it cleanly
except ModuleNotFoundError as missing:  # a Python without the requirements installed
    raise SystemExit(
        f"run.py: {missing} (the dependencies are not installed here). Install them in a venv and run with it: "
        "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/python run.py"
    ) from None

STARTUP = Startup()  # hears the stop signals, checks the Python, guards the output streams

from HelloWorldProcess import HelloWorldProcess  # noqa: E402 (after Startup: the stack takes ~200 ms to import)

if __name__ == "__main__":
    STARTUP.run(HelloWorldProcess)
