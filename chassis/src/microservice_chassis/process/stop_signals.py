"""The process's own handling of SIGTERM, SIGINT (Ctrl-C) and SIGHUP: one graceful stop, whenever they come.

pip_services3_container 3.2.5's ProcessContainer installs its SIGINT/SIGTERM handler only after the
container has opened (a signal during startup killed the process with status -15), ignores SIGHUP (the
default action kills at once, without closing anything), and logs from the handler before it sets its
exit event (a broken stdout then lost the signal). StopSignals is installed on run.py's first lines and
its handler writes nothing.

Written for any Python 3 (no syntax or annotation newer than 3.6), like PythonVersion: run.py installs it
before it checks the Python version.
"""

import os
import select
import signal
import time
from types import FrameType

# Looked up by name: Windows has no SIGHUP, and run.py installs these before it refuses Windows in one line.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name))
# Seconds after the first stop signal during which another one is the same request, not a demand to end
# at once: GNU `timeout` and a terminal's Ctrl-C signal the whole process group, so the process often gets
# the same signal twice within microseconds (once directly, once through its group).
REPEAT_GRACE = 1.0
# Seconds at most between two looks at whether a stop signal has come, while waiting for one.
WAKE_INTERVAL = 1.0


class StopSignals:
    """Records the first stop signal and wakes `wait`; a later SIGINT or SIGTERM ends the process at once.

    The first signal only asks: the process finishes opening, then closes every component and exits 0.
    An operator who will not wait for a slow close sends SIGINT or SIGTERM again (Ctrl-C twice), at least
    REPEAT_GRACE seconds after the first: the signal's default action then ends the process on the spot
    (status 128 + signal number in a shell, 130 or 143) with nothing closed. One within REPEAT_GRACE, and
    any repeated SIGHUP (a terminal going away), changes nothing.
    """

    def __init__(self) -> None:
        self.received = None  # type: signal.Signals | None
        self._received_at = 0.0
        # A pipe rather than a threading.Event: a handler that takes a lock the main thread holds
        # deadlocks, while writing one byte to a pipe cannot block on anything.
        self._read_end, self._write_end = os.pipe()
        os.set_blocking(self._write_end, False)

    def install(self) -> None:
        """Handles the stop signals, except SIGINT or SIGHUP that the parent made the process ignore
        (`nohup`, a background job): closing the terminal must not stop a service started that way."""
        for signal_number in STOP_SIGNALS:
            if signal_number == signal.SIGTERM or signal.getsignal(signal_number) is not signal.SIG_IGN:
                signal.signal(signal_number, self._handle)
        # The kernel hands a process-directed signal to any thread, often one of the HTTP server's: Python then
        # only flags it, and runs the handler when the main thread next runs Python code, which a main thread
        # blocked in `wait` does not. The interpreter's own C handler writes to the wakeup descriptor from
        # whichever thread got the signal, so `wait` wakes whatever thread it went to.
        signal.set_wakeup_fd(self._write_end)

    def _handle(self, signal_number: int, _frame: "FrameType | None") -> None:
        now = time.monotonic()
        if self.received is None:
            self.received = signal.Signals(signal_number)
            self._received_at = now
            os.write(self._write_end, b"!")  # wakes `wait` too should anything replace the wakeup descriptor
        elif signal_number != signal.SIGHUP and now - self._received_at >= REPEAT_GRACE:
            signal.signal(signal_number, signal.SIG_DFL)
            os.kill(os.getpid(), signal_number)

    @property
    def requested(self) -> bool:
        return self.received is not None

    def wait(self) -> "signal.Signals":
        """Blocks until a stop signal has come (returns at once if one already has) and names it."""
        while self.received is None:
            # Each signal writes a byte here (set_wakeup_fd), and its Python handler runs as soon as the main thread
            # runs Python code again. Any signal wakes it (SIGCHLD too): it then waits again. The timeout makes
            # that re-check happen whatever the interpreter's moment for running handlers.
            if select.select([self._read_end], [], [], WAKE_INTERVAL)[0]:
                os.read(self._read_end, 64)
        return self.received
