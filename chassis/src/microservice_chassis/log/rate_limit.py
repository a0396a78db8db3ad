"""At most LINES_PER_SECOND similar log lines a second: a client repeating a bad request cannot flood the log.

Every rejected request is logged at INFO (library_fixes/instrumentation.py), and one client sending bad names wrote
35,681 such lines (5 MB) in 10 s. The rejections of one kind (a call and an error code, e.g. `orders.get_order:
NAME_HAS_CONTROL_CHARACTERS`) are counted in windows of one second from the first: the first LINES_PER_SECOND are
written, the others only counted, and as the window ends one line says how many were suppressed.
"""

import threading
import time
from collections.abc import Callable

LINES_PER_SECOND = 10
WINDOW_SECONDS = 1.0


class _Window:
    """One kind's current second: lines admitted, lines suppressed, and who writes the summary."""

    __slots__ = ("admitted", "ends", "summarize", "suppressed")

    def __init__(self, ends: float, summarize: Callable[[int], None]) -> None:
        self.ends, self.summarize = ends, summarize
        self.admitted = self.suppressed = 0


class LogRateLimit:
    """Decides, per kind of line, whether one more may be written; summarizes the suppressed ones by kind.

    The kinds are few (a call and an error code of this service), so their windows are kept. A summary is written
    by a timer thread at the end of the window that suppressed lines, so it comes even when the repetition stops.
    """

    def __init__(self, per_window: int = LINES_PER_SECOND, window: float = WINDOW_SECONDS) -> None:
        self._per_window, self._window = per_window, window
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def admit(self, kind: str, summarize: Callable[[int], None]) -> bool:
        """Whether a line of `kind` may be written now; if not, it is counted, and `summarize(count)` (the first
        given in this window) is called once the window ends."""
        now = time.monotonic()
        with self._lock:
            window = self._windows.get(kind)
            if window is None or now >= window.ends:
                window = self._windows[kind] = _Window(now + self._window, summarize)
            if window.admitted < self._per_window:
                window.admitted += 1
                return True
            window.suppressed += 1
            first_suppressed = window.suppressed == 1
        if first_suppressed:
            timer = threading.Timer(window.ends - now, self._summarize, (window,))
            timer.daemon = True  # a pending summary must not hold up the exit
            timer.start()
        return False

    def _summarize(self, window: _Window) -> None:
        with self._lock:
            suppressed, window.suppressed = window.suppressed, 0
            window.ends = 0.0  # ended: a line of this kind now opens a new window
        window.summarize(suppressed)


# The one limit of the process's rejection lines.
REJECTIONS = LogRateLimit()
