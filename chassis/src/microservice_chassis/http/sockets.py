"""The kernel's view of a connection granian serves: how much of what was handed to it has left this process,
and a way to close it that granian notices.

granian 2.8.7 gives RSGI no handle on a connection's socket and no send timeout, and awaiting a streamed
response's `send_bytes` returns at once whatever the client reads (granian queues the bytes unbounded). The
socket is found instead by its addresses among this process's descriptors (granian runs in this process), and
the kernel answers for it: TCP_INFO's bytes the peer acknowledged, SIOCOUTQ's bytes still in the send queue.
Their sum grows only as bytes leave granian's buffers, which is what bounds the memory a client can hold.

All of that is Linux's (the descriptors listed in /proc/self/fd, TCP_INFO read at the byte offset of Linux's
struct tcp_info, SIOCOUTQ by Linux's number), so it sits behind one check, LINUX. Elsewhere (macOS) no connection is
looked up (`ConnectionSockets.locate` answers None) and no stall sweeper runs (stall_sweeper.py); the endpoint
serves as ever (limits, the header and body deadlines, closing), but gives up:
- pacing: a large answer (a file, a body over 64 KiB) is handed to granian at once, which queues it unbounded, so a
  client that reads nothing holds all of it in this process rather than `max_unread_per_connection`, and
  `max_unread_total` bounds nothing (its bookings end as soon as granian has queued the chunks);
- the send deadline, for large and small answers alike: granian 2.8.7 has none, so a client that reads nothing keeps
  its connection, its slot of `max_connections` and the answers queued for it until it goes away (the kernel ends
  the connection only if the client stops acknowledging altogether, not while it advertises a zero window);
- the cap on a paced connection's kernel send buffer (`limit_send_buffer`).
Every other function here takes a descriptor `locate` or `connections` found, so none of them runs elsewhere.
"""

import asyncio
import fcntl
import os
import socket
import struct
import sys
import time
from collections.abc import Callable
from typing import TypeVar

# struct tcp_info (linux/tcp.h): tcpi_bytes_acked, a u64 at byte 120 (Linux 4.1+).
_BYTES_ACKED = struct.Struct("=Q")
_BYTES_ACKED_OFFSET = 120
_TCP_INFO_SIZE = 128
# ioctl SIOCOUTQ (TIOCOUTQ on sockets): bytes in the send queue, sent but unacknowledged or not yet sent.
_SIOCOUTQ = 0x5411
# A descriptor scan serves every lookup that misses for at least this long: clients arriving together cost one scan.
RESCAN_SECONDS = 0.02
# ...and for this many times as long as the scan took: with thousands of descriptors a scan takes tens of ms on the
# event loop, which back-to-back scans would fill (a burst of 3,000 clients asking for files held /heartbeat 2 s).
SCAN_SPACING = 9

T = TypeVar("T")


def _kernel_reports_progress() -> bool:
    """Whether the kernel is Linux with a struct tcp_info as long as 4.1's, the first with tcpi_bytes_acked (an
    older or emulated one returns it shorter, or refuses TCP_INFO): asked once, of a socket never connected."""
    if sys.platform != "linux":
        return False
    try:
        with socket.socket() as probe:
            return len(probe.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_SIZE)) == _TCP_INFO_SIZE
    except OSError:
        return False


# The one platform check: whether connections can be found and their progress read (see the module docstring).
LINUX = _kernel_reports_progress()


class ConnectionSockets:
    """Finds the descriptor of a connection by (local, peer) address, as RSGI's scope names them ("ip:port").

    Descriptors are scanned only when a connection is not known yet, and a known one is checked again before
    each use (a closed connection's descriptor number is soon another's).
    """

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], int] = {}
        self._scanned_at = 0.0  # when the last scan began
        self._next_scan = 0.0  # the earliest time the next one may begin

    async def locate(self, local: str, peer: str) -> int | None:
        """The descriptor of the connection, or None if it is gone (or not a TCP socket of this process), and
        always None off Linux (see LINUX). A connection not known yet waits for a scan that begins after it was
        asked for: at most RESCAN_SECONDS, or SCAN_SPACING times the last scan's duration with thousands of
        descriptors."""
        if not LINUX:
            return None
        key = (local, peer)
        fd = self._known.get(key)
        if fd is not None and _addresses(fd) == key:
            return fd
        asked = time.monotonic()
        while self._scanned_at < asked:
            wait = self._next_scan - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            elif self._scanned_at < asked:  # no other lookup scanned meanwhile
                self._scan()
        fd = self._known.get(key)
        return fd if fd is not None and _addresses(fd) == key else None

    @staticmethod
    def still(fd: int, key: tuple[str, str]) -> bool:
        """Whether `fd` is still the connection `key` names."""
        return _addresses(fd) == key

    def connections(self, port: int) -> dict[tuple[str, str], int]:
        """Every connection accepted on `port` (its local address's port), by addresses, scanned afresh (on Linux
        only: its one caller, the stall sweeper, runs nowhere else)."""
        self._scan()
        return {key: fd for key, fd in self._known.items() if key[0].rpartition(":")[2] == str(port)}

    def _scan(self) -> None:
        """Maps every TCP socket of the process with a peer; stale entries are dropped."""
        started = self._scanned_at = time.monotonic()
        try:
            found: dict[tuple[str, str], int] = {}
            try:
                names = os.listdir("/proc/self/fd")
            except OSError:  # at the open-files limit: what is known stays, checked before each use
                return
            for name in names:
                key = _addresses(int(name))
                if key is not None:
                    found[key] = int(name)
            self._known = found
        finally:
            ended = time.monotonic()
            self._next_scan = ended + max(RESCAN_SECONDS, SCAN_SPACING * (ended - started))


def _addresses(fd: int) -> tuple[str, str] | None:
    """("ip:port", "ip:port") of a connected TCP socket, as granian's scope writes them; None for anything else."""
    return _on_socket(fd, _addresses_of)


def _addresses_of(sock: socket.socket) -> tuple[str, str] | None:
    if sock.type != socket.SOCK_STREAM or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return None
    return _text(sock.getsockname()), _text(sock.getpeername())  # OSError for a listening socket: it has no peer


def _text(address: tuple[object, ...]) -> str:
    """An (IPv4 or IPv6) socket address as "host:port"."""
    return f"{address[0]}:{address[1]}"


def progress(fd: int) -> tuple[int, int] | None:
    """Bytes of the connection the peer acknowledged so far, and bytes in the kernel's send queue; None if the
    descriptor is no longer a socket."""
    return _on_socket(fd, _progress_of)


def _progress_of(sock: socket.socket) -> tuple[int, int]:
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_SIZE)
    queued = struct.unpack("=i", fcntl.ioctl(sock.fileno(), _SIOCOUTQ, b"\0\0\0\0"))[0]
    acked: int = _BYTES_ACKED.unpack_from(info, _BYTES_ACKED_OFFSET)[0]
    return acked, queued


def bytes_gone(fd: int) -> int | None:
    """Bytes of the connection that left user space so far (acknowledged, or in the kernel's send queue)."""
    state = progress(fd)
    return None if state is None else state[0] + state[1]


def limit_send_buffer(fd: int, size: int) -> None:
    """Caps the kernel's send buffer of the connection at about `size` bytes (Linux doubles it for its own
    bookkeeping). Left to itself the kernel grows a loopback or LAN connection's buffer to 4 MB, which a client
    that reads nothing fills at once: 3,000 of them asking for a large file made the event loop copy gigabytes
    into kernel memory (/heartbeat then waited 1-2 s), and that memory counts against the pod's limit."""
    _on_socket(fd, lambda sock: sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size))


def cut(fd: int) -> None:
    """Shuts the connection down both ways: granian's next write fails and it drops the connection, freeing
    what it buffered for it. (Closing the descriptor here would pull it from under granian.) Lingering is turned
    off first, so that granian's close resets the connection, as nginx's reset_timedout_connection does: the
    kernel drops the unsent bytes at once, and the client learns of it (a FIN would wait behind them forever)."""
    _on_socket(fd, _cut)


def _cut(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.shutdown(socket.SHUT_RDWR)


def _on_socket(fd: int, use: Callable[[socket.socket], T]) -> T | None:
    """What `use` makes of the descriptor as a socket; None when it is not one (any more) or `use` fails. The
    descriptor is granian's: the socket object is detached from it, never closed here."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError:  # not a socket, or closed meanwhile
        return None
    try:
        return use(sock)
    except OSError:
        return None
    finally:
        sock.detach()
