"""A typed client of the hello-world REST service, for other services to call it the Pip.Services way."""

import library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from library_fixes.clients import RepairedHttpClient

from pip_services3_rpc.clients import RestClient

from IHelloWorldClient import IHelloWorldClient
from IHelloWorldController import check_name_argument
from tracing.client_spans import TracedHttpClient


class HelloWorldRestClient(TracedHttpClient, RepairedHttpClient, RestClient, IHelloWorldClient):
    """Calls GET /hello_world/<operation> (GET /hello_world/greeting).

    Configuration parameters:
        - connection.protocol / host / port (or connection.uri): where the service listens
        - options.connect_timeout: milliseconds to wait for a connection (default 10000)
        - options.timeout: milliseconds to wait for the answer (default 10000)

    Each call carries the W3C trace it belongs to (`traceparent`), and is a span when a tracer records them
    (see TracedHttpClient).

    Errors arrive as the Pip.Services exceptions the server described, e.g. BadRequestException
    with the server's code (NAME_TOO_LONG...).
    """

    def __init__(self) -> None:
        super().__init__()
        self._base_route = "hello_world"
        self._repair()

    def call_name_operation(self, operation: str, correlation_id: str | None, name: str | None) -> str:
        """GET /hello_world/<operation>?name=... (no name: the service's default name); refuses, without a call, a
        name that is not a string or not Unicode text (see check_name_argument), as the other clients do."""
        check_name_argument(name, correlation_id)
        with self._instrument(correlation_id, f"hello_world.{operation}"):
            answer: str = self._call("get", f"/{operation}", correlation_id, {"name": name} if name is not None else {})
        return answer
