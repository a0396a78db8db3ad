"""Standard streams that can never stop the process: a write to a closed or broken stream is dropped.

The loggers write to sys.stdout and sys.stderr from every component. When the reader of a pipe goes away
(`run.py | head -1`, a closed terminal), each write raises BrokenPipeError (or EIO) in whatever component
logs, and pip_services3_container 3.2.5 swallowed the one in its signal handler before setting its exit
event, so the process never stopped. Here such a write is dropped silently instead, and the stream stays
dropped: the operator who closed it wants no more of it.
"""

import os
import sys
from typing import Any, TextIO


class DroppingStream:
    """A text stream that passes writes on to `stream` until one fails, then drops them all."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self.dropped = stream is None  # started with the descriptor closed: Python gives None

    def write(self, text: str) -> int:
        if not self.dropped:
            try:
                self._stream.write(text)
            except (OSError, ValueError):  # ValueError: the stream object itself was closed
                self._drop()
        return len(text)

    def flush(self) -> None:
        if not self.dropped:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._drop()

    def _drop(self) -> None:
        """Points the descriptor at /dev/null, so that what is still buffered, and the interpreter's own
        flush at exit, go nowhere instead of failing again (exit status 120 and an "Exception ignored" line)."""
        self.dropped = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass  # no descriptor to redirect: nothing more can fail on it

    def __getattr__(self, name: str) -> Any:
        """Everything else (encoding, fileno, isatty...) is the wrapped stream's."""
        return getattr(self._stream, name)


def guard_standard_streams() -> None:
    """Makes sys.stdout and sys.stderr DroppingStreams, line-buffered, and unable to fail on encoding.

    Line buffering: log lines reach a pipe (tests, `docker logs`) as they are written. backslashreplace: a
    character the terminal cannot encode is escaped rather than raising inside a component.
    """
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, DroppingStream):
            continue
        if stream is not None:
            stream.reconfigure(line_buffering=True, errors="backslashreplace")
        setattr(sys, name, DroppingStream(stream))
