"""A production HTTP endpoint for Pip.Services services, served by granian inside this process.

It replaces the stock pip_services3_rpc HttpEndpoint (cheroot in a thread) and keeps its interface, so
every RestService, CommandableHttpService, heartbeat, status, swagger or metrics service that asks for
`*:endpoint:http:*:1.0` runs on it unchanged. What it changes, and why (see README, "HTTP endpoint"):

- fails fast: the socket is bound in `open`, after every route is registered, so a taken port or a
  bad host is an exception, and no request is ever answered 404 during startup;
- granian (a Rust HTTP/1.1 server on hyper) parses HTTP and handles connections without Python threads:
  idle and slow clients cost no thread, header reads are timed out, header memory is bounded;
- limits: URI 8 KiB (414), headers 16 KiB (431), body 1 MiB (413, refused before it is read);
- every 4xx/5xx is a Pip.Services ErrorDescription in JSON without stack traces; a 5xx says
  "internal error" and the full error is logged at ERROR under its correlation id;
- graceful close: stops accepting, lets in-flight requests finish (drain timeout), frees the port;
- one access-log line per request; CORS only when origins are configured; HTTPS with cert and key.
"""

import io
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

import bottle
from granian._futures import _new_cbscheduler
from granian._granian import SocketHolder, WorkerSignal, WSGIWorker
from granian._loops import loops
from granian.http import HTTP1Settings
from granian.wsgi import _callback_wrapper
from pip_services3_commons.config import ConfigParams, IConfigurable
from pip_services3_commons.convert import JsonConverter
from pip_services3_commons.errors import (
    ApplicationException,
    ConfigException,
    ConnectionException,
    ErrorDescription,
    ErrorDescriptionFactory,
)
from pip_services3_commons.refer import IReferenceable, IReferences
from pip_services3_commons.run import IOpenable
from pip_services3_commons.validate import Schema
from pip_services3_components.log import CompositeLogger, LogLevel, LogLevelConverter
from pip_services3_rpc.connect import HttpConnectionResolver
from pip_services3_rpc.services import IRegisterable

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]
Headers = list[tuple[str, str]]

JSON = "application/json"
SECURITY_HEADERS: Headers = [
    ("X-Content-Type-Options", "nosniff"),
    # As the stock endpoint: API answers are never cached by browsers or proxies.
    ("Cache-Control", "no-cache, no-store, must-revalidate"),
]
CORS_METHODS = "GET, POST, PUT, DELETE, PATCH, OPTIONS"
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# While closing: no request for this long, with none running, means granian has none queued either.
QUIET_SECONDS = 0.05
# While closing: the longest time spent answering with "Connection: close" before accepting stops.
MAX_CLOSING_SECONDS = 1.0
# Connections waiting to be accepted, and connections served at once.
BACKLOG = 1024
# Pip.Services error categories of the statuses the endpoint answers itself.
CATEGORIES = {401: "Unauthorized", 403: "Unauthorized", 404: "NotFound", 405: "Unsupported", 409: "Conflict"}


class HelloWorldHttpEndpoint(IOpenable, IConfigurable, IReferenceable):
    """The shared HTTP endpoint: `hello-world:endpoint:http:default:1.0`.

    Configuration parameters (the stock endpoint's, plus the options it lacks):
        - connection.protocol / host / port (or connection.uri): where to listen (http or https)
        - credential.ssl_crt_file / ssl_key_file: the certificate and key, for https
        - cors_origins, cors_headers: comma-separated allowed origins ("*" for any) and extra headers
        - options.request_max_size: largest request body in bytes (default 1 MiB)
        - options.max_uri_size: longest request target in bytes (default 8 KiB)
        - options.max_header_size: largest header block in bytes (default 16 KiB)
        - options.header_read_timeout: milliseconds a connection may take to send a request's headers,
          and may stay idle between keep-alive requests (default 5000)
        - options.drain_timeout: milliseconds `close` lets in-flight requests finish (default 5000)
        - options.threads: Python threads that run handlers (default 1: more only for handlers that wait
          on I/O, since threads contend for the GIL and lengthen tail latency)
        - options.access_log_level: level of the one-line-per-request access log (default debug)
        - options.maintenance_enabled: answer every request 503 (default false)

    References: `*:logger:*:*:1.0` (access log, errors), `*:discovery:*:*:1.0` (both optional).
    """

    _default_config = ConfigParams.from_tuples(
        "connection.protocol", "http",
        "connection.host", "0.0.0.0",
        "connection.port", 3000,
        "options.request_max_size", 1024 * 1024,
        "options.max_uri_size", 8 * 1024,
        "options.max_header_size", 16 * 1024,
        "options.header_read_timeout", 5000,
        "options.drain_timeout", 5000,
        "options.threads", 1,
        "options.access_log_level", "debug",
        "options.maintenance_enabled", False,
    )  # fmt: skip

    def __init__(self) -> None:
        self._connection_resolver = HttpConnectionResolver()
        self._logger = CompositeLogger()
        self._registrations: list[IRegisterable] = []
        self._config = self._default_config
        self._allowed_origins: list[str] = []
        self._allowed_headers = ["correlation_id", "Content-Type", "Authorization"]
        self._app: bottle.Bottle | None = None
        self._socket: socket.socket | None = None
        self._stop_signal: WorkerSignal | None = None
        self._granian_fd = -1
        self._in_flight = 0
        self._last_request_end = 0.0
        self._draining = False
        self._idle = threading.Condition()
        self._read_options()

    def configure(self, config: ConfigParams) -> None:
        self._config = config.set_defaults(self._default_config)
        self._connection_resolver.configure(self._config)
        self._read_options()

    def _read_options(self) -> None:
        self._max_body = self._config.get_as_long("options.request_max_size")
        self._max_uri = self._config.get_as_long("options.max_uri_size")
        self._max_headers = self._config.get_as_long("options.max_header_size")
        self._maintenance = self._config.get_as_boolean("options.maintenance_enabled")
        self._access_log_level = LogLevelConverter.to_log_level(
            self._config.get_as_string("options.access_log_level"), LogLevel.Debug
        )
        self._allowed_origins = [
            o.strip() for o in self._config.get_as_string_with_default("cors_origins", "").split(",") if o.strip()
        ]
        extra_headers = self._config.get_as_string_with_default("cors_headers", "").split(",")
        self._allowed_headers += [
            h.strip() for h in extra_headers if h.strip() and h.strip() not in self._allowed_headers
        ]
        # bottle parses JSON bodies only below this size; the endpoint enforces its own limit first.
        bottle.BaseRequest.MEMFILE_MAX = max(bottle.BaseRequest.MEMFILE_MAX, self._max_body + 1)

    def set_references(self, references: IReferences) -> None:
        self._logger.set_references(references)
        self._connection_resolver.set_references(references)

    def is_open(self) -> bool:
        return self._socket is not None

    # --- lifecycle ---------------------------------------------------------------------------

    def open(self, correlation_id: str | None) -> None:
        """Registers every route, binds the socket, then starts serving: fails here, never later."""
        if self.is_open():
            return
        connection = self._connection_resolver.resolve(correlation_id)
        host, port = connection.get_as_string("host"), self._valid_port(correlation_id, connection)
        ssl = self._ssl_context(correlation_id, connection)
        self._app = self._create_app()
        for registration in self._registrations:
            registration.register()
        self._socket = self._bind(correlation_id, host, port)
        self._stop_signal, self._granian_fd = _serve_with_granian(
            self._wsgi, self._socket, ssl, self._config.get_as_integer("options.threads"),
            self._config.get_as_integer("options.header_read_timeout"),
        )  # fmt: skip
        bound_port = self._socket.getsockname()[1]
        scheme = "https" if ssl[0] else "http"
        self._logger.info(correlation_id, f"Listening on {scheme}://{host}:{bound_port}")

    def close(self, correlation_id: str | None) -> None:
        """Stops accepting, waits for in-flight requests up to the drain timeout, then frees the port."""
        if not self.is_open():
            return
        drain_seconds = self._config.get_as_integer("options.drain_timeout") / 1000
        deadline = time.monotonic() + drain_seconds
        with self._idle:
            # 1. Answer what clients have already sent, each answer with "Connection: close": stopping
            #    granian closes idle keep-alive connections, and a request still in such a connection's
            #    buffer would be lost; a connection closed after an answer loses nothing.
            self._draining = True
            self._wait_until(self._drained, time.monotonic() + min(MAX_CLOSING_SECONDS, drain_seconds / 2))
            # 2. Stop accepting. granian closes its copy of the listening socket once its accept loop has
            #    ended; shutting the socket down before that would make the loop spin on errors. The
            #    shutdown then refuses whatever connected meanwhile.
            self._stop_signal.set()
            self._wait_until(self._granian_stopped_accepting, deadline)
            self._socket.shutdown(socket.SHUT_RDWR)
            # 3. Let in-flight requests finish.
            drained = self._wait_until(self._drained, deadline)
        if not drained:
            self._logger.warn(correlation_id, f"Closed with {self._in_flight} requests still running")
        self._socket.close()
        self._socket = self._stop_signal = self._app = None
        self._draining = False
        self._logger.info(correlation_id, "Closed HTTP endpoint")

    def _wait_until(self, condition: Callable[[], bool], deadline: float) -> bool:
        """Polls `condition` until it holds or the deadline passes: granian says nothing when it stops."""
        while not condition():
            if time.monotonic() >= deadline:
                return False
            self._idle.wait(0.005)
        return True

    def _drained(self) -> bool:
        """No request runs, and none has for QUIET_SECONDS: granian hands a request it has read to an idle
        Python thread at once, so none is queued either (granian's own threads end only when idle
        keep-alive connections do, which must not hold the process up)."""
        return self._in_flight == 0 and time.monotonic() - self._last_request_end >= QUIET_SECONDS

    def _granian_stopped_accepting(self) -> bool:
        """Whether granian has closed its descriptor of the listening socket (gone, or reused for another file)."""
        try:
            return os.fstat(self._granian_fd).st_ino != os.fstat(self._socket.fileno()).st_ino
        except OSError:
            return True

    def _valid_port(self, correlation_id: str | None, connection: ConfigParams) -> int:
        text = connection.get_as_string("port")
        host = connection.get_as_string("host")
        if not (text or "").isdigit() or not 0 < int(text) < 65536:
            raise ConfigException(
                correlation_id, "INVALID_PORT", f"Cannot listen on {host}:{text}: the port must be 1-65535"
            )
        return int(text)

    def _bind(self, correlation_id: str | None, host: str, port: int) -> socket.socket:
        try:
            family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
            listener = socket.socket(family, kind, protocol)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind(address)
                listener.listen(BACKLOG)
            except OSError:
                listener.close()
                raise
        except OSError as error:
            raise ConnectionException(
                correlation_id, "CANNOT_LISTEN", f"Cannot listen on {host}:{port}: {error.strerror or error}"
            ) from None
        return listener

    def _ssl_context(self, correlation_id: str | None, connection: ConfigParams) -> tuple:
        """granian's TLS settings: (enabled, cert, key, password, min protocol, ca, crl, client verify)."""
        if connection.get_as_string_with_default("protocol", "http") != "https":
            return (False, None, None, None, "tls1.2", None, [], False)
        cert, key = connection.get_as_nullable_string("ssl_crt_file"), connection.get_as_nullable_string("ssl_key_file")
        for path in (cert, key):
            if not path or not os.path.isfile(path):
                raise ConfigException(
                    correlation_id, "NO_SSL_FILE", f"HTTPS needs a certificate and key; {path!r} is not a file"
                )
        return (True, os.path.abspath(cert), os.path.abspath(key), None, "tls1.2", None, [], False)

    # --- the IRegisterable side, as the stock HttpEndpoint offers it ----------------------------

    def register(self, registration: IRegisterable) -> None:
        self._registrations.append(registration)

    def unregister(self, registration: IRegisterable) -> None:
        self._registrations.remove(registration)

    def register_route(self, method: str, route: str, schema: Schema | None, handler: Callable) -> None:
        """Routes `method route` to `handler`; with a schema, validates query, route params and JSON body (400)."""

        def validated(*args: Any, **kwargs: Any) -> Any:
            try:
                if schema is not None:
                    data: dict[str, Any] = {k: bottle.request.query.get(k) for k in bottle.request.query}
                    if bottle.request.method in BODY_METHODS and bottle.request.content_length:
                        data["body"] = bottle.request.json
                    data.update(kwargs)
                    schema.validate_and_throw_exception(data.get("correlation_id"), data, False)
                return handler(*args, **kwargs)
            except ApplicationException as error:  # a ValidationException, or one a handler did not catch
                bottle.response.status = error.status
                bottle.response.content_type = JSON
                return JsonConverter.to_json(ErrorDescriptionFactory.create(error))

        self._app.route(_fix_route(route), method.upper(), validated)

    def register_route_with_auth(
        self, method: str, route: str, schema: Schema | None, authorize: Callable, action: Callable
    ) -> None:
        def authorized(*args: Any, **kwargs: Any) -> Any:
            bottle.request.params["kwargs"] = kwargs  # where the stock authorizers look for route params
            authorize()
            return action(*args, **kwargs)

        self.register_route(method, route, schema, authorized if authorize else action)

    def register_interceptor(self, route: str, action: Callable) -> None:
        """Runs `action` before every request whose URL matches `route` (as the stock endpoint matches it)."""
        pattern = re.compile(".*" + _fix_route(route))

        def intercept() -> None:
            if not route or pattern.match(bottle.request.url):
                action()

        self._app.add_hook("before_request", intercept)

    def get_correlation_id(self) -> str | None:
        return bottle.request.query.get("correlation_id") or bottle.request.headers.get("correlation_id")

    def get_param(self, param: str, default: Any = None) -> Any:
        return bottle.request.params.get(param, default)

    # --- serving ----------------------------------------------------------------------------------

    def _create_app(self) -> bottle.Bottle:
        """A bare bottle app: no session middleware, no hook that parses every body (the stock ones)."""
        app = bottle.Bottle(catchall=True, autojson=True)
        app.default_error_handler = self._bottle_error
        return app

    def _bottle_error(self, error: bottle.HTTPError) -> str:
        """bottle's own errors (404, 405, a handler's exception) as JSON instead of its HTML page."""
        bottle.response.content_type = JSON
        description = _describe(error.status_code, self.get_correlation_id())
        if error.status_code < 500:
            description.message = str(error.body)
        else:
            description.message = repr(error.exception)
            description.stack_trace = error.traceback
        return JsonConverter.to_json(description)

    def _wsgi(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """The WSGI app granian calls: limits, CORS, bottle, error bodies, headers, access log, drain count."""
        started = time.perf_counter()
        correlation_id = _correlation_id(environ)
        # bottle writes each failing handler's traceback here; the endpoint logs it through the loggers instead.
        environ["wsgi.errors"] = _DISCARD
        with self._idle:
            self._in_flight += 1
        try:
            status, headers, body = self._respond(environ, correlation_id)
        except Exception as error:  # a fault of the endpoint itself: still one format, still logged
            self._logger.error(correlation_id, error, "Endpoint failed on %s", environ.get("PATH_INFO"))
            status, headers, body = self._error(500, _describe(500, correlation_id, "internal error"), correlation_id)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._last_request_end = time.monotonic()
                self._idle.notify_all()
        headers += SECURITY_HEADERS + self._cors_headers(environ)
        if self._draining:
            headers.append(("Connection", "close"))
        start_response(status, headers)
        self._log_access(environ, correlation_id, int(status[:3]), started)
        return body

    def _respond(self, environ: dict, correlation_id: str | None) -> tuple[str, Headers, Iterable[bytes]]:
        rejection = self._reject(environ, correlation_id)
        if rejection is not None:
            return self._error(rejection.status, rejection, correlation_id)
        if self._is_preflight(environ):
            return "204 No Content", [("Access-Control-Max-Age", "600")], []
        captured: list = []
        body = self._app(environ, lambda status, headers, exc_info=None: captured.extend((status, headers)))
        status, headers = captured
        if int(status[:3]) < 400:
            return status, headers, body
        content = b"".join(body)
        if hasattr(body, "close"):
            body.close()
        return self._error(int(status[:3]), content, correlation_id, headers)

    def _reject(self, environ: dict, correlation_id: str | None) -> ErrorDescription | None:
        """Limits and framing, checked before any handler runs; bodies are buffered here (bounded) or refused."""
        target = len(environ.get("PATH_INFO", "").encode("latin-1")) + len(environ.get("QUERY_STRING", ""))
        if target > self._max_uri:
            return _describe(414, correlation_id, f"Request target is longer than {self._max_uri} bytes")
        header_size = sum(len(k) + len(v) for k, v in environ.items() if k.startswith("HTTP_"))
        if header_size > self._max_headers:
            return _describe(431, correlation_id, f"Headers are larger than {self._max_headers} bytes")
        if self._maintenance:
            return _describe(503, correlation_id, "Service is in maintenance")
        length = environ.get("CONTENT_LENGTH") or ""
        if length and (not length.isdigit()):
            return _describe(400, correlation_id, "Content-Length is not a number")
        if length and int(length) > self._max_body:
            return _describe(413, correlation_id, f"Body is larger than {self._max_body} bytes")
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return self._buffer_chunked_body(environ, correlation_id)
        return None

    def _buffer_chunked_body(self, environ: dict, correlation_id: str | None) -> ErrorDescription | None:
        """granian has already de-chunked the body; bottle would de-chunk it again and fail. So the body is
        read here, up to the limit, and handed on with a Content-Length."""
        try:
            body = environ["wsgi.input"].read(self._max_body + 1)
        except Exception:
            return _describe(400, correlation_id, "Malformed chunked body")
        if len(body) > self._max_body:
            return _describe(413, correlation_id, f"Body is larger than {self._max_body} bytes")
        del environ["HTTP_TRANSFER_ENCODING"]
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)
        return None

    def _error(
        self, status: int, error: ErrorDescription | bytes, correlation_id: str | None, headers: Headers = ()
    ) -> tuple[str, Headers, list[bytes]]:
        """Any error response as a clean ErrorDescription. A 5xx from a handler goes to the log in full and
        to the client as "internal error"; the endpoint's own descriptions (limits, maintenance) are clean."""
        description = error if isinstance(error, ErrorDescription) else _parse_error(status, error, correlation_id)
        if status >= 500 and not isinstance(error, ErrorDescription):
            self._logger.error(
                description.correlation_id, None, "Internal error %s: %s %s",
                description.code, description.message, description.stack_trace or "",
            )  # fmt: skip
            description = _describe(status, description.correlation_id, "internal error")
        description.stack_trace = description.cause = None
        content = JsonConverter.to_json(description).encode()
        kept = [(k, v) for k, v in headers if k.lower() in ("allow", "retry-after", "www-authenticate")]
        if status == 503 and self._maintenance:
            kept.append(("Retry-After", "3600"))
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        return f"{status} {reason}", [("Content-Type", JSON), ("Content-Length", str(len(content))), *kept], [content]

    def _is_preflight(self, environ: dict) -> bool:
        return (
            bool(self._allowed_origins)
            and environ["REQUEST_METHOD"] == "OPTIONS"
            and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
        )

    def _cors_headers(self, environ: dict) -> Headers:
        """CORS headers only for configured origins: none at all by default (the stock endpoint sent an empty one)."""
        origin = environ.get("HTTP_ORIGIN")
        if not origin or not ("*" in self._allowed_origins or origin in self._allowed_origins):
            return []
        return [
            ("Access-Control-Allow-Origin", origin),
            ("Vary", "Origin"),
            ("Access-Control-Allow-Methods", CORS_METHODS),
            ("Access-Control-Allow-Headers", ", ".join(self._allowed_headers)),
        ]

    def _log_access(self, environ: dict, correlation_id: str | None, status: int, started: float) -> None:
        """One line per request; the configured loggers drop it below their level."""
        level = LogLevel.Error if status >= 500 else self._access_log_level
        milliseconds = (time.perf_counter() - started) * 1000
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        self._logger.log(level, correlation_id, None, "%s %s %d %.1f ms", method, path, status, milliseconds)


_DISCARD = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process


def _fix_route(route: str | None) -> str:
    return "" if not route else route if route.startswith("/") else "/" + route


def _correlation_id(environ: dict) -> str | None:
    """The client's correlation id: `correlation_id` in the query, else the `correlation_id` header."""
    query = environ.get("QUERY_STRING", "")
    if "correlation_id=" in query:
        values = parse_qs(query).get("correlation_id")
        if values:
            return values[-1]
    return environ.get("HTTP_CORRELATION_ID")


def _describe(status: int, correlation_id: str | None, message: str | None = None) -> ErrorDescription:
    """An ErrorDescription for an HTTP status: code NOT_FOUND for 404, category from the status family."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    description = ErrorDescription()
    description.category = CATEGORIES.get(status, "Internal" if status >= 500 else "BadRequest")
    description.status = status
    description.code = "INTERNAL_ERROR" if status >= 500 else re.sub(r"\W+", "_", phrase).strip("_").upper()
    description.message = message or phrase
    description.correlation_id = correlation_id
    return description


def _parse_error(status: int, content: bytes, correlation_id: str | None) -> ErrorDescription:
    """A service's error body: kept when it is an ErrorDescription (the Pip.Services send_error), else described."""
    try:
        parsed = json.loads(content)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and "code" in parsed:
        description = ErrorDescription.from_json({"stack_trace": None, **parsed})
        description.status = status
        description.correlation_id = description.correlation_id or correlation_id
        return description
    return _describe(status, correlation_id, content.decode("utf-8", "replace")[:200] or None)


def _serve_with_granian(
    app: WsgiApp, listener: socket.socket, ssl: tuple, threads: int, header_timeout: int
) -> tuple[WorkerSignal, int]:
    """Serves `app` on the bound `listener` with one granian WSGI worker in this process.

    Returns the worker's stop signal and the descriptor of the listening socket it owns (and closes).

    granian's public `Granian` server owns the whole process (its own signal handlers and worker
    processes), which a Pip.Services component cannot allow; so this starts the worker the way granian's
    own threaded server does (granian.server.mt), from the modules pinned in requirements.txt.
    """
    stop = WorkerSignal()
    loop = loops.get("asyncio")
    granian_fd = os.dup(listener.fileno())
    worker = WSGIWorker(
        1,  # worker id
        (None, SocketHolder(granian_fd, False, BACKLOG)),
        None,
        1,  # Rust I/O threads: one is plenty for one Python process
        512,  # Rust blocking threads
        threads,  # Python threads running the app
        30,  # idle seconds before an unused Python thread ends
        BACKLOG,  # backpressure: connections served at once (idle ones included), as granian's default
        "1",  # HTTP/1.1
        HTTP1Settings(header_read_timeout=header_timeout, keep_alive=True, max_buffer_size=64 * 1024),
        None,  # no HTTP/2 settings
        None,  # no static files
        *ssl,
        (None, None),  # no metrics exporter
    )
    worker.serve_mtr(_new_cbscheduler(loop, _callback_wrapper(app, {}, None), impl_asyncio=False), loop, stop)
    return stop, granian_fd
