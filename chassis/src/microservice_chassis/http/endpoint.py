"""A production HTTP endpoint for Pip.Services services, served by granian inside this process.

It replaces the stock pip_services3_rpc HttpEndpoint (cheroot in a thread) and keeps its interface, so every
RestService, CommandableHttpService, heartbeat, status, swagger or metrics service that asks for
`*:endpoint:http:*:1.0` runs on it unchanged. This module is the component (configuration, lifecycle and the
interface services register with); its parts live in http/, one concern per module.
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from microservice_chassis.library_fixes.loggers import LevelCheckingCompositeLogger

from collections.abc import Callable
from typing import Any

import bottle
from pip_services3_commons.config import ConfigParams, IConfigurable
from pip_services3_commons.refer import IReferenceable, IReferences
from pip_services3_commons.run import IOpenable
from pip_services3_commons.validate import Schema
from pip_services3_rpc.connect import HttpConnectionResolver
from pip_services3_rpc.services import IRegisterable

from microservice_chassis.http import routes
from microservice_chassis.http.decorations import AccessLog
from microservice_chassis.http.errors import bottle_error
from microservice_chassis.http.granian_server import GranianServer, TlsFiles
from microservice_chassis.http.options import DEFAULTS, EndpointOptions, integer, invalid
from microservice_chassis.http.pipeline import RequestPipeline
from microservice_chassis.http.request_counters import RequestCounters
from microservice_chassis.http.rsgi_bridge import CORRELATION_ID_KEY
from microservice_chassis.http.stall_sweeper import StallSweeper
from microservice_chassis.tracing.request_tracer import IRequestTracer, enabled_tracer


class GranianHttpEndpoint(IOpenable, IConfigurable, IReferenceable):
    """The shared HTTP endpoint: `chassis:endpoint:http:default:1.0`.

    Configuration parameters (the stock endpoint's, plus the options it lacks):
        - connection.protocol / host / port (or connection.uri): where to listen (http or https)
        - credential.ssl_crt_file / ssl_key_file: the certificate and key, for https (checked in `open`)
        - cors_origins, cors_headers: comma-separated allowed origins ("*" for any) and extra headers
        - options.request_max_size: largest request body in bytes (default 1 MiB; 413 above)
        - options.max_uri_size: longest request target (path and query) in bytes (default 8 KiB; 414 above)
        - options.max_header_size: largest header names and values together in bytes (default 16 KiB; 431)
        - options.header_read_timeout: milliseconds a connection may take to send a request's headers,
          and may stay idle between keep-alive requests (default 5000)
        - options.body_read_timeout: milliseconds a client may take to send a whole body (default 10000; 408)
        - options.drain_timeout: milliseconds `close` lets in-flight requests finish (default 5000)
        - options.send_timeout: milliseconds a client may accept no byte of an answer before its connection is
          closed (default 30000, as nginx's send_timeout)
        - options.max_unread_per_connection: bytes of a large answer (a file, a body over 64 KiB) held in this
          process for one client at a time (default 64 KiB)
        - options.max_unread_total: bytes all large answers together may hold; a large answer beyond it is
          refused 503 with Retry-After (default 32 MiB)
        - options.max_buffered_total: bytes all requests receiving their bodies may hold together, each booked 16 KiB
          plus its announced body; a request beyond it is refused 503 with Retry-After (default 64 MiB)
        - options.max_connections: connections served at once, idle ones included (default 16384); more wait
          in the kernel's queue. The soft limit of open files is raised to fit it: the hard limit must allow
          max_connections plus the descriptors open at `open`, the server's 16 and 16 for files, or fewer connections
          are served at once (one warning); a limit that leaves fewer than 16 fails `open` (granian_server).
        - options.threads: threads that run handlers (default 1: the server's event loop thread itself); N > 1
          runs them on a pool of N threads, for handlers that wait on I/O
        - options.access_log_level: level of the one-line-per-request access log (default debug)
        - options.maintenance_enabled: answer every request 503 but liveness and scrapes, /heartbeat and /metrics
          (default false)

    References: `*:logger:*:*:1.0` (access log, errors), `*:counters:*:*:1.0` (each IHttpRequestCounters counts
    every answer), `chassis:tracer:*:*:1.0` (a span per request, when it records them), `*:discovery:*:*:1.0`
    (all optional).

    Every value is checked for type and range (options.py): a wrong one fails `configure` (or `open`, for the
    port) with one ConfigException naming the key and the entry, before anything binds.
    """

    def __init__(self) -> None:
        self._connection_resolver = HttpConnectionResolver()
        self._logger = LevelCheckingCompositeLogger()
        self._request_counters = RequestCounters()
        self._registrations: list[IRegisterable] = []
        self._tracer: IRequestTracer | None = None
        self._config = DEFAULTS
        self._options = EndpointOptions.from_config(DEFAULTS)
        self._app: bottle.Bottle | None = None
        self._pipeline: RequestPipeline | None = None
        self._server: GranianServer | None = None
        self._sweeper: StallSweeper | None = None

    def configure(self, config: ConfigParams) -> None:
        self._config = config.set_defaults(DEFAULTS)
        self._connection_resolver.configure(self._config)
        self._options = EndpointOptions.from_config(self._config)

    def set_references(self, references: IReferences) -> None:
        self._logger.set_references(references)
        self._request_counters.set_references(references)
        self._connection_resolver.set_references(references)
        self._tracer = enabled_tracer(references)

    def is_open(self) -> bool:
        return self._server is not None

    # --- lifecycle ---------------------------------------------------------------------------

    def open(self, correlation_id: str | None) -> None:
        """Registers every route, binds the socket, then starts serving: fails here, never later."""
        if self.is_open():
            return
        connection = self._connection_resolver.resolve(correlation_id)
        host, port = connection.get_as_string("host"), self._valid_port(connection)
        tls = None
        if connection.get_as_string_with_default("protocol", "http") == "https":
            tls = TlsFiles(connection.get_as_string("ssl_crt_file"), connection.get_as_string("ssl_key_file"))
        self._app = bottle.Bottle(catchall=True, autojson=True)  # no session middleware, no body-parsing hook
        # bottle parses a JSON body only up to MEMFILE_MAX (100 KiB, then 413): the endpoint's own limit applies
        # instead. bottle keeps it process-wide, as it keeps its request and response.
        bottle.BaseRequest.MEMFILE_MAX = self._options.max_body
        self._app.default_error_handler = bottle_error
        for registration in self._registrations:
            registration.register()
        self._request_counters.declare(self._app)
        access_log = AccessLog(self._logger, self._options.access_log_level)
        self._pipeline = RequestPipeline(
            self._app, self._options, self._logger, access_log, self._request_counters.count, self._tracer
        )
        server = GranianServer(self._pipeline, host, port, tls, self._options.header_timeout_ms,
                               self._options.max_connections)  # fmt: skip
        server.start(correlation_id, self._pipeline.drain.finish_requests)
        self._server = server
        if server.connections < self._options.max_connections:
            self._logger.warn(
                correlation_id,
                "The open-files limit (ulimit -n) lets %d connections be served at once, not max_connections %d",
                server.connections,
                self._options.max_connections,
            )
        self._sweeper = StallSweeper(port, self._options.send_timeout, self._logger)
        self._sweeper.start()
        shown_host = f"[{host}]" if ":" in host else host  # an IPv6 address in a URL
        self._logger.info(correlation_id, f"Listening on {'https' if tls else 'http'}://{shown_host}:{port}")

    def close(self, correlation_id: str | None) -> None:
        """Stops accepting, lets in-flight requests finish up to the drain timeout, then frees the port."""
        server, pipeline = self._server, self._pipeline
        if server is None:  # not open
            return
        assert pipeline is not None  # open sets it before the server
        drain = pipeline.drain
        left = drain.answer_what_was_sent(self._options.drain_timeout)
        # Stopping accepting; the requests in flight finish on the server's loop (drain.finish_requests).
        stopped = server.stop(left + 0.5)
        if not stopped or drain.in_flight:
            self._logger.warn(correlation_id, f"Closed with requests still running: {drain.in_flight}")
        pipeline.shutdown()
        assert self._sweeper is not None  # open starts it once the server serves
        self._sweeper.stop()
        self._server = self._pipeline = self._app = self._sweeper = None
        self._logger.info(correlation_id, "Closed HTTP endpoint")

    # --- the IRegisterable side, as the stock HttpEndpoint offers it ----------------------------

    def register(self, registration: IRegisterable) -> None:
        self._registrations.append(registration)

    def unregister(self, registration: IRegisterable) -> None:
        self._registrations.remove(registration)

    def register_route(self, method: str, route: str, schema: Schema | None, handler: Callable[..., Any]) -> None:
        """Routes `method route` to `handler`; with a schema, validates query, route params and JSON body (400)."""
        app = self._app
        assert app is not None, "routes are registered by open"  # each registration's register() runs in open
        app.route(routes.fixed(route), method.upper(), routes.validated(schema, handler))

    def register_route_with_auth(
        self,
        method: str,
        route: str,
        schema: Schema | None,
        authorize: Callable[..., Any] | None,
        action: Callable[..., Any],
    ) -> None:
        # As the stock endpoint: no authorizer, the action alone.
        self.register_route(method, route, schema, routes.authorized(authorize, action) if authorize else action)

    def register_interceptor(self, route: str, action: Callable[..., Any]) -> None:
        """Runs `action` before every request whose URL matches `route` (as the stock endpoint matches it)."""
        app = self._app
        assert app is not None, "interceptors are registered by open"  # each registration's register() runs in open
        app.add_hook("before_request", routes.intercepting(route, action))

    def get_correlation_id(self) -> str | None:
        """The request's correlation id (query, else header), as the endpoint read and checked it."""
        correlation_id: str | None = bottle.request.environ.get(CORRELATION_ID_KEY)
        return correlation_id

    def get_param(self, param: str, default: Any = None) -> Any:
        return bottle.request.params.get(param, default)

    def _valid_port(self, connection: ConfigParams) -> int:
        """The resolved port (from connection.port or connection.uri), an integer 1-65535."""
        text = connection.get_as_string("port")
        port = integer(text)
        if port is None or not 0 < port < 65536:
            raise invalid(self._config, "connection.port", "must be an integer 1-65535", text)
        return port
