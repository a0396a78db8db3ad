"""Closing without losing a request: what the endpoint does between `close` and a free port.

Stopping granian closes idle keep-alive connections at once, so a request still in such a connection's buffer would
be lost. Closing therefore goes in two steps: first every answer asks its client to close the connection
("Connection: close") until no request has come for QUIET_SECONDS; then granian stops accepting and the requests in
flight finish on the server's loop, until the drain timeout.
"""

import asyncio
import time

# While closing: no request for this long, with none running, means none is waiting in a connection's buffer.
QUIET_SECONDS = 0.05
# While closing: the longest time spent answering with "Connection: close" before accepting stops.
MAX_CLOSING_SECONDS = 1.0
# How often the two steps look at the requests in flight (counted on the loop thread; nothing to wait on).
POLL_SECONDS = 0.005


class Drain:
    """Counts the requests in flight, as the pipeline reports them, and runs the two steps of closing."""

    def __init__(self) -> None:
        self.in_flight = 0
        self._last_finished = 0.0
        # Set while the endpoint closes: every answer then asks its client to close the connection, and readiness
        # is refused (see guards).
        self.closing = False
        # Until when requests in flight may finish; none before close (a server that stops by itself waits for none).
        self._deadline = 0.0

    def started(self) -> None:
        self.in_flight += 1

    def finished(self) -> None:
        self.in_flight -= 1
        self._last_finished = time.monotonic()

    def answer_what_was_sent(self, timeout: float) -> float:
        """Step 1, on the thread that closes: answers with "Connection: close" until quiet, for at most
        min(MAX_CLOSING_SECONDS, timeout / 2). Returns the seconds left of `timeout` for step 2."""
        now = time.monotonic()
        self._deadline = now + timeout
        self.closing = True
        quiet_until = now + min(MAX_CLOSING_SECONDS, timeout / 2)
        while not self._quiet() and time.monotonic() < quiet_until:
            time.sleep(POLL_SECONDS)
        return max(0.0, self._deadline - time.monotonic())

    async def finish_requests(self) -> None:
        """Step 2, on the server's loop once granian has stopped accepting: the requests in flight finish there."""
        while self.in_flight and time.monotonic() < self._deadline:
            await asyncio.sleep(POLL_SECONDS)

    def _quiet(self) -> bool:
        """No request runs, and none has for QUIET_SECONDS."""
        return self.in_flight == 0 and time.monotonic() - self._last_finished >= QUIET_SECONDS
