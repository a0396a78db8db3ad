"""A granian RSGI request as the WSGI environ that bottle reads, and bottle's answer back as bytes.

Pip.Services services run on bottle, a WSGI framework; granian's embedded server speaks RSGI. The environ holds
what bottle and the Pip.Services services read, built once per request with no copying beyond the headers.
"""

import io
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

# granian.rsgi imports these under new names from its private compiled module (granian._granian), with no
# `__all__`: mypy's strict re-export rule does not count that as an export, though it is granian's public name.
from granian.rsgi import ProtocolClosed, ProtocolError  # type: ignore[attr-defined]

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Headers = list[tuple[str, str]]

# Header names as WSGI keys ("content-type" -> "HTTP_CONTENT_TYPE"), computed once per distinct name.
_WSGI_KEYS: dict[str, str] = {}
# Header names are bounded in number (hyper refuses more than 100 per request) but not in variety.
_MAX_CACHED_KEYS = 1024
_NO_BODY = io.BytesIO(b"")
# Where the environ carries the request's correlation id, as the guards read and checked it.
CORRELATION_ID_KEY = "chassis.correlation_id"


class _Discard(io.StringIO):
    """bottle writes failing handlers' tracebacks to wsgi.errors; the endpoint logs them through its loggers."""

    def write(self, text: str) -> int:
        return len(text)


_DISCARD = _Discard()


def wsgi_key(name: str) -> str:
    """`HTTP_` + the header name in upper case with `_` for `-`, as CGI names request headers."""
    key = _WSGI_KEYS.get(name)
    if key is None:
        key = "HTTP_" + name.upper().replace("-", "_")
        if len(_WSGI_KEYS) < _MAX_CACHED_KEYS:
            _WSGI_KEYS[name] = key
    return key


def environ_of(scope: Any, headers: dict[str, str], body: bytes | None, correlation_id: str | None) -> dict[str, Any]:
    """The WSGI environ of a request whose headers are already collected as WSGI keys and whose correlation id is
    already read and checked (see guards): the id is handed on under CORRELATION_ID_KEY."""
    server_name, _, server_port = scope.server.rpartition(":")
    environ = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        # WSGI carries the path as latin-1 text of its bytes; granian has decoded them as UTF-8.
        "PATH_INFO": scope.path.encode("utf-8").decode("latin-1"),
        # The same for the query; granian passes it as sent, but a raw non-ASCII byte arrives decoded as UTF-8.
        "QUERY_STRING": query if (query := scope.query_string).isascii() else query.encode("utf-8").decode("latin-1"),
        "SERVER_NAME": server_name,
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": "HTTP/" + scope.http_version,
        "REMOTE_ADDR": scope.client.rpartition(":")[0],
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body) if body else _NO_BODY,
        "wsgi.errors": _DISCARD,
        "wsgi.file_wrapper": FileBody,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        CORRELATION_ID_KEY: correlation_id,
    }
    environ.update(headers)
    environ.pop("HTTP_TRANSFER_ENCODING", None)  # the body is read already: bottle must not de-chunk it again
    environ["CONTENT_LENGTH"] = str(len(body)) if body else ""
    if "HTTP_CONTENT_TYPE" in headers:
        environ["CONTENT_TYPE"] = headers["HTTP_CONTENT_TYPE"]
    return environ


class FileBody:
    """WSGI's `wsgi.file_wrapper`: a file an app answers with (Swagger UI's files) is handed to the endpoint as the
    open file it is and streamed from there (answers.py), a chunk at a time, instead of read whole into memory per
    request: a client that stops reading then holds a file descriptor and a window of the file, not a copy of it.
    Only a regular file opened for binary reading is handed over (see `take`); any other file-like answer is read
    here, as any WSGI server reads it."""

    def __init__(self, file: Any, block_size: int = 64 * 1024) -> None:
        self.file, self._block_size = file, block_size
        self._taken = False

    def __iter__(self) -> Iterator[bytes]:
        # Any empty or false read ends the file ("" from a text file, None from a non-blocking one), as other WSGI
        # servers end it: a sentinel of b"" alone would read such a file forever, on the event loop.
        while chunk := self.file.read(self._block_size):
            yield chunk

    def take(self) -> BinaryIO | None:
        """The file itself, from its current position on, now the caller's to close: a regular file open() opened
        for binary reading. None for anything else (a BytesIO, a device such as /dev/zero that never ends, a pipe,
        a wrapper), which is then read here."""
        file = self.file
        if type(file) is not io.BufferedReader:
            return None
        try:
            regular = stat.S_ISREG(os.fstat(file.fileno()).st_mode)
        except OSError:
            return None
        self._taken = regular
        return file if regular else None

    def close(self) -> None:
        """Closes the file, if it can be closed and was not handed over: PEP 3333 asks file-like answers only for
        `read`."""
        close = getattr(self.file, "close", None)
        if close is not None and not self._taken:
            close()


def call_wsgi(app: WsgiApp, environ: dict[str, Any]) -> tuple[int, Headers, bytes | BinaryIO]:
    """Runs the WSGI app to the end: its status code, headers and whole body, or the open file it answers with
    (see FileBody). A failure the app reports with `exc_info` (bottle does when its own error handling
    fails, for example out of descriptors) is raised here, as PEP 3333 lets a server do, for the endpoint to
    answer as the exception it is rather than as the app's HTML page."""
    answer: list[Any] = []  # [status line, headers] once start_response is called

    def start_response(status: str, headers: Headers, exc_info: Any = None) -> None:
        if exc_info is not None and exc_info[1] is not None:
            raise exc_info[1].with_traceback(exc_info[2])
        answer[:] = (status, headers)

    chunks = app(environ, start_response)
    try:
        # Only a success is handed over as a file: an error's body is read, for the endpoint to describe it.
        success = bool(answer) and answer[0][:1] in "123"
        file = chunks.take() if success and isinstance(chunks, FileBody) else None
        body = file if file is not None else b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    status, headers = answer
    return int(status[:3]), headers, body


class BodyTooLargeError(Exception):
    """The body grew past the limit while it was read."""


class MalformedBodyError(Exception):
    """The body's framing is broken (a bad chunk size), or the client went away before sending all of it."""


async def read_body(
    protocol: Any, limit: int, declared_length: int | None, has_trailers: bool, cover: Callable[[int], None]
) -> bytes:
    """Reads the whole body as granian de-frames it, refusing it as soon as it passes `limit` bytes; `cover` is
    told the size received so far before each chunk is kept (it raises to refuse holding that much).

    granian 2.8.7's RSGI body iterator does not raise on a broken body: a malformed chunk size, or a client that
    goes away mid-body, ends the iteration after an extra empty chunk (a complete body ends with exactly one), and
    a Content-Length body cut short simply ends early. Both are told apart here. (Awaiting `protocol()` does raise,
    but reads the body whole, with no size limit.) Trailers also arrive as an empty chunk: a request that announces
    them (the Trailer header) is read without that check.
    """
    parts: list[bytes] = []
    size = 0
    ended = False
    try:
        async for chunk in protocol:
            if ended and not has_trailers:
                raise MalformedBodyError
            if not chunk:
                ended = True
                continue
            size += len(chunk)
            if size > limit:
                raise BodyTooLargeError
            cover(size)
            parts.append(chunk)
    except (ProtocolClosed, ProtocolError):
        raise MalformedBodyError from None
    if declared_length is not None and size != declared_length:
        raise MalformedBodyError
    return b"".join(parts)
