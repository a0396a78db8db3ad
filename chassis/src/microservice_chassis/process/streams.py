"""Standard streams that can never stop or hold up the process: their lines are written by a LogWriter.

The loggers write to sys.stdout and sys.stderr from every component, on the event loop and in request handlers.
A write to a pipe nobody reads blocked there (every route hung), and one to a reader that went away (`run.py |
head -1`) raised BrokenPipeError in whatever component logged (pip_services3_container 3.2.5 swallowed the one in
its signal handler before setting its exit event, so the process never stopped). Here a write only queues its
complete lines for the stream's LogWriter (see log/writer.py: the bound, the dropped lines, the retries).
At exit, `drain_standard_streams` gives the writers `drain_timeout` seconds to write what is queued, never more:
a stalled output cannot keep the process from ending.
"""

import atexit
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from microservice_chassis.log.writer import LogWriter

# Seconds the exit waits for queued lines to be written (LogOutput sets it from config.yml).
DRAIN_TIMEOUT = 5.0


class QueuedStream:
    """A text stream that hands complete lines to a LogWriter of its descriptor; a partial line waits for its end
    (or a flush). A character the descriptor's encoding cannot take is escaped rather than raising in a component."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self._partial = ""
        self._lock = threading.Lock()  # keeps the partial line and the queue's order one across threads
        # Told how many lines the bound dropped (LogOutput counts them), by the thread that wrote them,
        # outside the lock: counting may log (the log counters' dump), which would deadlock inside it.
        self.on_dropped: Callable[[int], None] | None = None
        self._reporting = threading.local()
        self.drain_timeout = DRAIN_TIMEOUT
        # Started with the descriptor closed, Python gives None: every write is dropped.
        self.writer = None if stream is None else LogWriter(stream.fileno())

    def write(self, text: str) -> int:
        with self._lock:
            complete, newline, self._partial = (self._partial + text).rpartition("\n")
            dropped = self._put(complete + newline) if newline else 0
        self._report(dropped)
        return len(text)

    def flush(self) -> None:
        """Queues a partial line; never waits for the descriptor (see drain)."""
        with self._lock:
            dropped = self._put(self._partial) if self._partial else 0
            self._partial = ""
        self._report(dropped)

    def drain(self, timeout: float) -> bool:
        """Flushes, then waits at most `timeout` seconds for the writer to write everything queued."""
        self.flush()
        return self.writer is None or self.writer.drain(timeout)

    def _put(self, text: str) -> int:
        """Queues `text`; returns how many lines were dropped instead (0 or its lines)."""
        if self.writer is None:
            return 0
        lines = text.count("\n") or 1
        encoding = getattr(self._stream, "encoding", None) or "utf-8"
        queued = self.writer.put(text.encode(encoding, "backslashreplace"), lines)
        return 0 if queued else lines

    def _report(self, dropped: int) -> None:
        """Tells on_dropped, unless this thread is already telling it (a line its counting logged was dropped):
        that line is in the log's count of dropped lines, not in the counter's."""
        if dropped and self.on_dropped is not None and not getattr(self._reporting, "active", False):
            self._reporting.active = True
            try:
                self.on_dropped(dropped)
            finally:
                self._reporting.active = False

    def __getattr__(self, name: str) -> Any:
        """Everything else (encoding, fileno, isatty...) is the wrapped stream's."""
        return getattr(self._stream, name)


# The QueuedStreams guard_standard_streams made of sys.stdout and sys.stderr: kept here, since sys.stdout is
# sometimes something else for a while (ChassisProcess.open holds back the library's output).
_GUARDED: list[QueuedStream] = []


def standard_streams() -> list[QueuedStream]:
    """The QueuedStreams of stdout and stderr, once guard_standard_streams has made them (else none)."""
    return list(_GUARDED)


def guard_standard_streams() -> None:
    """Makes sys.stdout and sys.stderr QueuedStreams, drained at the interpreter's exit (sys.exit included)."""
    if _GUARDED:
        return
    for name in ("stdout", "stderr"):
        _GUARDED.append(QueuedStream(getattr(sys, name)))
        setattr(sys, name, _GUARDED[-1])
    atexit.register(drain_standard_streams)


def drain_standard_streams() -> None:
    """Gives both streams, together, their `drain_timeout` to write what they hold; run.py calls it before it
    ends the process with os._exit, which runs no atexit function."""
    streams = standard_streams()
    deadline = time.monotonic() + max((stream.drain_timeout for stream in streams), default=0)
    for stream in streams:
        stream.drain(deadline - time.monotonic())
