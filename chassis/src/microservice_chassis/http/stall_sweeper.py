"""The send deadline for every connection, small answers included: a thread that cuts off connections whose
client has accepted no byte for `send_timeout` while answers wait for it.

A client that pipelines thousands of small requests and reads nothing holds granian's connection (and a slot of
`max_connections`) forever: hyper answers into its buffer until it is full, then waits to write, and no timer of
granian 2.8.7 runs meanwhile. Small answers are handed to granian whole (no per-request cost), so the deadline is
kept from outside: every sweep reads each connection's progress from the kernel (sockets.py), and one that has
bytes waiting in its send queue yet has had none acknowledged since a sweep `send_timeout` ago is shut down.

The connections are found and read as only Linux allows (sockets.LINUX): elsewhere no sweeper runs, and a client
that reads nothing keeps its connection (sockets.py says all that is lost).
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import threading
import time

from pip_services3_components.log import ILogger

from microservice_chassis.http import sockets
from microservice_chassis.http.sockets import ConnectionSockets, cut, progress

# The longest time between sweeps: a connection is cut off at most this long after its deadline.
MAX_SWEEP_SECONDS = 5.0


class StallSweeper:
    """Sweeps the connections accepted on a port until stopped; `cut_off` counts those it shut down."""

    def __init__(self, port: int, send_timeout: float, logger: ILogger) -> None:
        self._port, self._send_timeout, self._logger = port, send_timeout, logger
        self._interval = min(MAX_SWEEP_SECONDS, send_timeout / 4)
        self._sockets = ConnectionSockets()
        # Per stalled connection: its acknowledged byte count and when it was first seen so.
        self._stalled: dict[tuple[str, str], tuple[int, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="http-stall-sweeper", daemon=True)
        self.cut_off = 0

    def start(self) -> None:
        """Starts sweeping, on Linux only (see the module docstring)."""
        if sockets.LINUX:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():  # never started off Linux
            self._thread.join(self._interval + 1)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.sweep()
            except Exception as error:  # never ends the deadline for good; logged, tried again next sweep
                self._logger.error(None, error, "Sweeping stalled connections failed")

    def sweep(self) -> None:
        """One pass: remembers connections with bytes waiting, cuts off those with no progress for too long."""
        now, stalled, cut_now = time.monotonic(), {}, 0
        for key, fd in self._sockets.connections(self._port).items():
            state = progress(fd)
            if state is None or state[1] == 0:  # gone, or nothing waits for the client: idle or reading
                continue
            acked, since = state[0], now
            if key in self._stalled and self._stalled[key][0] == acked:
                since = self._stalled[key][1]
            if now - since >= self._send_timeout and self._sockets.still(fd, key):
                cut(fd)
                cut_now += 1
            else:
                stalled[key] = (acked, since)
        self._stalled = stalled
        if cut_now:
            self.cut_off += cut_now
            self._logger.info(
                None, "Closed %d connections whose clients read nothing for %g s", cut_now, self._send_timeout
            )
