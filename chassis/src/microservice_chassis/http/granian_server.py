"""The only code that knows granian: its public embedded server (`granian.server.embed.Server`, RSGI) run on an
event loop in a thread of its own, so the Pip.Services container keeps the process (its signals, its main thread).

granian's embedded server is documented as experimental; it is used for what granian's other servers cannot do
here: run inside a process it does not own. Its RSGI interface hands the body to Python as an awaitable, so a
client that stalls its body costs a pending coroutine with a deadline, never a thread.

The loop is uvloop's, granian's fast loop (`granian --loop uvloop`): granian hands each request from its Rust
threads to the loop (a wake-up and a task), which uvloop's loop (libuv, in C) does for less.
Measured on 2 cores, 50 connections, three interleaved rounds: 13.0-14.0k req/s against 10.0-12.0k on asyncio's
loop (the former private WSGI worker: 11.1-12.7k), p99 5.3-6.0 ms against 6.4-7.3 ms.
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import asyncio
import contextlib
import os
import resource
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop
from granian.constants import HTTPModes, Interfaces, SSLProtocols
from granian.http import HTTP1Settings
from granian.server.embed import Server
from pip_services3_commons.errors import ConfigException, ConnectionException

# Connections waiting in the kernel to be accepted.
BACKLOG = 1024
# hyper's buffer for a request head: the request line and headers together (bodiless 431 above it).
HEAD_BUFFER = 64 * 1024
# Descriptors the server opens as it starts (granian's runtime and worker, uvloop's loop, the listening socket):
# 15 measured with granian 2.8.7, one more as margin.
SERVER_DESCRIPTORS = 16
# Descriptors kept for what the process opens while serving besides connections: the files handlers answer (one
# per connection being sent one; beyond them a 503), /proc/self/fd scans (sockets.py), the tracer's connection.
FILES_SPARE = 16
# The fewest connections worth serving at once: the kubelet's liveness and readiness probes, a Prometheus scrape
# and a few clients' keep-alive connections. An open-files limit that leaves fewer is a mistake, refused at open.
MIN_CONNECTIONS = 16
# How long starting may take before it counts as failed.
START_SECONDS = 10.0

RsgiHandler = Callable[[Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class TlsFiles:
    """A certificate chain and its private key, in PEM files."""

    certificate: str
    key: str


class GranianServer:
    """Serves an RSGI handler on host:port until stopped; every failure to start is raised by `start`."""

    def __init__(
        self,
        handler: RsgiHandler,
        host: str,
        port: int,
        tls: TlsFiles | None,
        header_timeout_ms: int,
        max_connections: int,
    ) -> None:
        self._handler, self._host, self._port, self._tls = handler, host, port, tls
        self._header_timeout_ms, self._max_connections = header_timeout_ms, max_connections
        self.connections = max_connections  # served at once: max_connections, or fewer if open files are short
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._started = threading.Event()
        self._failure: BaseException | None = None

    def start(self, correlation_id: str | None, on_stopped: Callable[[], Awaitable[None]]) -> None:
        """Binds and starts serving, or raises ConfigException / ConnectionException in one line.

        `on_stopped` runs on the server's loop after granian has stopped accepting: the endpoint lets the requests
        it is still answering finish there.
        """
        tls = _checked_tls(correlation_id, self._tls)
        self.connections = _connection_cap(correlation_id, self._max_connections)
        address = self._free_address(correlation_id)
        server = Server(
            _Target(self._handler, self._serving),
            address=address,
            port=self._port,
            interface=Interfaces.RSGI,
            http=HTTPModes.http1,
            websockets=False,
            backlog=BACKLOG,
            backpressure=self.connections,
            http1_settings=HTTP1Settings(
                header_read_timeout=self._header_timeout_ms, keep_alive=True, max_buffer_size=HEAD_BUFFER
            ),
            log_enabled=False,
            ssl_cert=Path(tls.certificate) if tls else None,
            ssl_key=Path(tls.key) if tls else None,
            ssl_protocol_min=SSLProtocols.tls12,
        )
        self._server = server
        self._thread = threading.Thread(target=self._run, args=(server, on_stopped), name="http-endpoint", daemon=True)
        self._thread.start()
        # Set once granian's worker listens, or by _run when serving ended before that.
        if not self._started.wait(START_SECONDS) or self._failure is not None or not self._thread.is_alive():
            self.stop(START_SECONDS)
            raise self._cannot_listen(correlation_id, _first_line(self._failure))

    def _serving(self, loop: asyncio.AbstractEventLoop) -> None:
        """Called by granian's worker on the loop just before it starts listening, which it does before the loop
        runs its next callback (granian binds while it starts serving): so the callback marks the server started."""
        loop.call_soon(self._started.set)

    def stop(self, timeout: float) -> bool:
        """Stops accepting, waits up to `timeout` for the loop to finish what it serves; False if it did not."""
        if self.loop is not None and self._server is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                self.loop.call_soon_threadsafe(self._server.stop)
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    def _run(self, server: Server, on_stopped: Callable[[], Awaitable[None]]) -> None:
        """The server thread: serves until stopped, then lets the endpoint finish its requests on the same loop."""
        self.loop = uvloop.new_event_loop()
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(server.serve())
            self.loop.run_until_complete(on_stopped())
        except BaseException as error:  # reported by start (before serving) or by the endpoint's close
            self._failure = error
        finally:
            self._started.set()
            self.loop.close()

    def _free_address(self, correlation_id: str | None) -> str:
        """The numeric address to listen on (granian takes no host names, "localhost" included), once it is known
        to be free: it is bound once here without SO_REUSEPORT, which granian sets, because a second instance on
        the same port would otherwise share it silently (the kernel splits connections between the two)."""
        try:
            family, kind, protocol, _, address = socket.getaddrinfo(self._host, self._port, type=socket.SOCK_STREAM)[0]
            with socket.socket(family, kind, protocol) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(address)
        except (OSError, UnicodeError) as error:  # UnicodeError: a host name no resolver can encode
            raise self._cannot_listen(correlation_id, getattr(error, "strerror", None) or str(error)) from None
        # An IP address (a str) for the stream sockets asked for; typeshed also allows other families' int here.
        return str(address[0])

    def _cannot_listen(self, correlation_id: str | None, reason: str) -> ConnectionException:
        return ConnectionException(
            correlation_id, "CANNOT_LISTEN", f"Cannot listen on {self._host}:{self._port}: {reason}"
        )


class _Target:
    """The RSGI application granian serves: the handler, and RSGI's hook that runs when a worker starts."""

    def __init__(self, handler: RsgiHandler, on_init: Callable[[asyncio.AbstractEventLoop], None]) -> None:
        self.__rsgi__ = handler
        self.__rsgi_init__ = on_init


def _checked_tls(correlation_id: str | None, tls: TlsFiles | None) -> TlsFiles | None:
    """Loads the certificate and key in Python, so a missing, malformed or mismatched pair is one clear error
    here instead of a panic in granian's Rust TLS code."""
    if tls is None:
        return None
    for path in (tls.certificate, tls.key):
        if not path or not os.path.isfile(path):
            raise ConfigException(
                correlation_id, "NO_SSL_FILE", f"HTTPS needs a certificate and key; {path!r} is not a file"
            )
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(tls.certificate, tls.key)
    except (ssl.SSLError, OSError) as error:
        raise ConfigException(
            correlation_id,
            "INVALID_SSL_FILES",
            f"Cannot use certificate {tls.certificate!r} with key {tls.key!r}: {_first_line(error)}",
        ) from None
    return TlsFiles(os.path.abspath(tls.certificate), os.path.abspath(tls.key))


def _connection_cap(correlation_id: str | None, max_connections: int) -> int:
    """How many connections granian may serve at once (its backpressure): never more than descriptors are left,
    since past that its accept fails (a panic in its runtime at a very low limit) instead of waiting.

    The soft limit of open files is raised towards what max_connections needs (within the hard limit, which only
    root may raise); what it leaves beyond the descriptors open now, the server's and FILES_SPARE is the cap. A
    limit that leaves fewer than MIN_CONNECTIONS is a ConfigException: one line and exit 1 rather than a service
    that cannot answer its own probes."""
    in_use = len(os.listdir("/dev/fd"))  # /proc/self/fd on Linux; the listing's own descriptor counts as margin
    spare = in_use + SERVER_DESCRIPTORS + FILES_SPARE
    needed = max_connections + spare
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return max_connections
    if soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft - spare < MIN_CONNECTIONS:
        raise ConfigException(
            correlation_id,
            "TOO_FEW_OPEN_FILES",
            f"The open-files limit (ulimit -n) is {soft}: the HTTP endpoint needs at least {spare + MIN_CONNECTIONS} "
            f"({in_use} open now, {SERVER_DESCRIPTORS} for the server, {FILES_SPARE} for files it sends, "
            f"{MIN_CONNECTIONS} connections), and {needed} for options.max_connections {max_connections}",
        )
    return min(max_connections, soft - spare)


def _first_line(error: BaseException | None) -> str:
    """granian's Rust errors carry a backtrace after their first line (with RUST_BACKTRACE set)."""
    text = str(error or "the server did not start").strip()
    return text.splitlines()[0] if text else type(error).__name__
