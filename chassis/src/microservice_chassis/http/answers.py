"""Sending answers so that a client that does not read them holds little memory and no slot for long.

Small answers (the greetings, errors, JSON) go to granian whole, as before: `response_bytes`, no extra cost.
Large ones (Swagger UI's files, a large body) are streamed in chunks, and a chunk is handed to granian only once
the bytes before it have left this process (see sockets.py: granian 2.8.7 queues streamed bytes unbounded and
sends files from its own buffers with no send timeout). So a connection holds at most `max_unread_per_connection`
bytes of answer in this process, all of them together at most `max_unread_total` (beyond it a large answer is
refused 503 with Retry-After), and a client that accepts no byte for `send_timeout` is cut off, as nginx's
send_timeout does.
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import asyncio
import os
import time
from typing import Any, BinaryIO, NamedTuple

from pip_services3_components.log import ILogger

from microservice_chassis.http.errors import EXHAUSTED, RequestRejectedError
from microservice_chassis.http.options import EndpointOptions
from microservice_chassis.http.rsgi_bridge import Headers
from microservice_chassis.http.sockets import ConnectionSockets, bytes_gone, cut, limit_send_buffer

# Answers up to this size go to granian whole: they fit its buffers, and most answers are far smaller.
SMALL_ANSWER = 64 * 1024
CHUNK = 16 * 1024
# How often a paced stream looks whether its bytes have left: from this, doubling while nothing moves...
FIRST_POLL_SECONDS = 0.001
# ...up to this (3,000 stalled clients then cost 3,000 cheap system calls a second).
LAST_POLL_SECONDS = 1.0
# What a client refused for lack of memory or descriptors is asked to wait before trying again.
RETRY_AFTER_SECONDS = "1"


# A burst of refusals is logged once: the next one is logged after this long without any.
QUIET_LOG_SECONDS = 10.0


class Large(NamedTuple):
    """A large answer to stream: its bytes or open file, its size, and the memory booked for it."""

    content: bytes | BinaryIO
    size: int
    booked: int


def unavailable(message: str, correlation_id: str | None) -> RequestRejectedError:
    """A 503 the client may retry: the service is short of memory or descriptors for now, not broken."""
    return RequestRejectedError(503, message, correlation_id, EXHAUSTED, [("Retry-After", RETRY_AFTER_SECONDS)])


class AnswerSender:
    """Sends each answer; counts the connections cut off for reading nothing (`stalled`) and the answers refused
    for lack of memory or descriptors (`refused`), and logs each kind once per burst."""

    def __init__(self, options: EndpointOptions, logger: ILogger) -> None:
        self._send_timeout = options.send_timeout
        self._window = options.max_unread_per_connection
        self._total = options.max_unread_total
        self._logger = logger
        self._sockets = ConnectionSockets()
        self._reserved = 0
        self.stalled = self.refused = 0
        # Until when a refusal is not logged again: one line per burst.
        self._quiet_until = 0.0

    def prepare(self, body: bytes | BinaryIO, correlation_id: str | None) -> Large | None:
        """None for a small answer (sent whole); for a large one (a body over SMALL_ANSWER, or an open file) what
        `send` streams, its memory booked. Refused 503 when all large answers together would hold more than
        `max_unread_total` unread (a file is closed then)."""
        if isinstance(body, bytes) and len(body) <= SMALL_ANSWER:
            return None
        content = body  # an open file is sent from where it is on, and closed by send, which owns it from here
        size = len(body) if isinstance(body, bytes) else os.fstat(body.fileno()).st_size - body.tell()
        booked = min(size, self._window)
        if self._reserved + booked > self._total:
            if not isinstance(content, bytes):
                content.close()
            raise self.refusal("answers not yet read hold options.max_unread_total", correlation_id)
        self._reserved += booked
        return Large(content, size, booked)

    def refusal(self, reason: str | None, correlation_id: str | None) -> RequestRejectedError:
        """The 503 for an exhausted resource, counted, and logged once per burst (no traceback): it ends by
        itself when the pressure goes."""
        self.refused += 1
        now = time.monotonic()
        if now >= self._quiet_until:
            self._logger.warn(correlation_id, "Refusing requests 503 while short of resources: %s", reason)
        self._quiet_until = now + QUIET_LOG_SECONDS
        return unavailable("Service is short of resources; retry later", correlation_id)

    async def send(self, scope: Any, protocol: Any, status: int, headers: Headers, large: Large, what: str) -> None:
        """Streams a large answer (bytes or an open file, closed here) within its window and the send deadline;
        `what` names the request in the one log line a cut-off connection gets."""
        body, size = large.content, large.size
        try:
            transport = protocol.response_stream(status, [*headers, ("Content-Length", str(size))])
            # No descriptor (off Linux, or an address written otherwise than expected): streamed unpaced.
            key = (scope.server, scope.client)
            fd = await self._sockets.locate(*key)
            if fd is not None:
                limit_send_buffer(fd, self._window)
            gone = bytes_gone(fd) if fd is not None else None
            # The descriptor and the bytes gone through it before this answer, both known; else None.
            pacing = (fd, gone) if fd is not None and gone is not None else None
            handed = 0
            for offset in range(0, size, CHUNK):
                chunk = body[offset : offset + CHUNK] if isinstance(body, bytes) else body.read(CHUNK)
                if not chunk:  # a file cut short meanwhile: granian closes the connection, short of Content-Length
                    return
                if pacing is not None:
                    fd, start = pacing
                    room = await self._room(fd, key, start, handed + len(chunk))
                    if room is not True:
                        if room is False:
                            self._cut(fd, what)
                        return
                await transport.send_bytes(chunk)
                handed += len(chunk)
        finally:
            self._reserved -= large.booked
            if not isinstance(body, bytes):
                body.close()

    async def _room(self, fd: int, key: tuple[str, str], start: int, handed: int) -> bool | None:
        """Waits until no more than the window of the `handed` bytes is still in this process: True then, False
        when the client accepted nothing for send_timeout, None when the connection is gone (its descriptor may
        already be another connection's)."""
        delay, last, moved_at = FIRST_POLL_SECONDS, None, time.monotonic()
        while True:
            gone = bytes_gone(fd) if self._sockets.still(fd, key) else None
            if gone is None:
                return None
            if handed - (gone - start) <= self._window:
                return True
            if gone != last:
                last, moved_at, delay = gone, time.monotonic(), FIRST_POLL_SECONDS
            elif time.monotonic() - moved_at >= self._send_timeout:
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, LAST_POLL_SECONDS, self._send_timeout / 10)

    def _cut(self, fd: int, what: str) -> None:
        cut(fd)
        self.stalled += 1
        self._logger.info(None, "%s: client read nothing for %g s, connection closed", what, self._send_timeout)
