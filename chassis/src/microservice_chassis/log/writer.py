"""One descriptor's log output, written by a thread of its own, so that no serving thread ever waits on it.

A pipe nobody reads (`run.py | less`, a stalled log shipper, Ctrl-S on a terminal) blocks a write once its 64 KiB
are full: a logger writing from a request handler or the event loop then froze every route, and SIGTERM could not
stop the process. Here a write only appends to a bounded queue; one writer thread per descriptor does the blocking
writes, in order. Lines beyond the bound are dropped and counted, and one line in the log's format says how many,
where they are missing, once writing resumes. A write that fails (a full disk: ENOSPC, EIO) is retried until it
succeeds, the queue holding what comes meanwhile; a broken pipe (EPIPE: the reader is gone) drops everything for good.
"""

import errno
import os
import threading
import time
from collections import deque

from microservice_chassis.log import line_format
from microservice_chassis.process import identity

# Lines a descriptor may hold queued beyond what its pipe or file takes (a pipe: 64 KiB, some 800 lines): about a
# second of access log at INFO under load, some 100 KB. A reader that keeps up never comes near it.
MAX_QUEUED_LINES = 1_000
# Bytes the thread writes at most at once (a pipe takes 64 KiB).
BATCH_BYTES = 65_536
# Seconds before retrying a write that failed (ENOSPC, EIO...), doubling after each failure up to RETRY_MAX.
RETRY_FIRST = 0.05
RETRY_MAX = 1.0
# The `logger` of that line in JSON: the log output (LogOutput counts the same lines).
LOGGER = "log-output"
# Errors after which the descriptor will never take a line again: its reader is gone, or it is closed.
BROKEN = {errno.EPIPE, errno.EBADF}


def dropped_line(lines: int) -> bytes:
    """The line written where `lines` lines are missing (in JSON: with `dropped_lines`)."""
    message = f"{lines} log lines dropped while the output could not be written"
    fields = {"dropped_lines": lines}
    return (line_format.line("WARN", identity.name(), message, logger=LOGGER, fields=fields) + "\n").encode()


class _Gap:
    """The place in the queue where lines were dropped, and how many."""

    __slots__ = ("lines",)

    def __init__(self, lines: int) -> None:
        self.lines = lines


class LogWriter:
    """Writes what `put` queues to `descriptor`, from its own daemon thread, in order; `drain` waits, up to a
    timeout, until everything queued has been written."""

    def __init__(self, descriptor: int) -> None:
        self._descriptor = descriptor
        self._queue: deque[tuple[bytes, int] | _Gap] = deque()
        self._queued_lines = 0
        self._writing = False  # the thread holds an item it has not finished writing
        self.broken = False
        lock = threading.Lock()
        self._has_work = threading.Condition(lock)  # two conditions: a notify meant for the thread
        self._idle = threading.Condition(lock)  # must never wake a drain instead
        threading.Thread(target=self._run, name=f"log-writer-{descriptor}", daemon=True).start()

    def put(self, data: bytes, lines: int) -> bool:
        """Queues `data` (`lines` complete lines) without ever waiting on the descriptor; at the bound, drops it
        and returns False (a broken descriptor's lines are dropped unreported, as its reader wanted)."""
        with self._has_work:
            if self.broken:
                return True
            if self._queued_lines and self._queued_lines + lines > MAX_QUEUED_LINES:
                if self._queue and isinstance(self._queue[-1], _Gap):
                    self._queue[-1].lines += lines
                else:
                    self._queue.append(_Gap(lines))
                self._has_work.notify()
                return False
            self._queue.append((data, lines))
            self._queued_lines += lines
            self._has_work.notify()
            return True

    def drain(self, timeout: float) -> bool:
        """Waits until everything queued is written (or the descriptor broke), at most `timeout` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self.broken or not (self._queue or self._writing), max(timeout, 0))

    def _run(self) -> None:
        while not self.broken:
            with self._has_work:
                self._writing = False
                if not self._queue:
                    self._idle.notify_all()
                    self._has_work.wait_for(lambda: self._queue)
                self._writing = True
                data = self._take()
            self._write(data)

    def _take(self) -> bytes:
        """What to write next, under the lock: the queued lines up to the next gap (at most BATCH_BYTES, in one
        write: a busy log costs one system call and one wake-up of this thread per batch, not per line), or the
        line that tells a gap."""
        first = self._queue[0]
        if isinstance(first, _Gap):
            self._queue.popleft()
            return dropped_line(first.lines)
        batch: list[bytes] = []
        size = 0
        while self._queue and size < BATCH_BYTES:
            item = self._queue[0]
            if isinstance(item, _Gap):
                break
            self._queue.popleft()
            data, lines = item
            self._queued_lines -= lines
            batch.append(data)
            size += len(data)
        return b"".join(batch)

    def _write(self, data: bytes) -> None:
        """Writes all of `data`, retrying after a failure until it succeeds, unless the descriptor is broken."""
        remaining, delay = memoryview(data), RETRY_FIRST
        while remaining:
            try:
                remaining = remaining[os.write(self._descriptor, remaining) :]
                delay = RETRY_FIRST
            except OSError as error:
                if error.errno in BROKEN:
                    self._break()
                    return
                time.sleep(delay)  # a full disk or a device error: it may come back
                delay = min(delay * 2, RETRY_MAX)

    def _break(self) -> None:
        """Drops everything for good, and points the descriptor at /dev/null, so that what else writes to it (the
        interpreter's own flush at exit, a C library) goes nowhere instead of failing (exit status 120)."""
        with self._has_work:
            self.broken = True
            self._queue.clear()
            self._queued_lines = 0
            self._idle.notify_all()
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._descriptor)
            os.close(devnull)
        except OSError:
            pass  # no descriptor to redirect: nothing more can fail on it
