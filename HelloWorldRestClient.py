"""A typed client of the hello-world REST service, for other services to call it the Pip.Services way."""

import library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from library_fixes.clients import RepairedHttpClient

from pip_services3_rpc.clients import RestClient

from IHelloWorldClient import IHelloWorldClient
from tracing.client_spans import TracedHttpClient


class HelloWorldRestClient(TracedHttpClient, RepairedHttpClient, RestClient, IHelloWorldClient):
    """Calls GET /hello_world/<operation> (GET /hello_world/greeting).

    Configuration parameters: where the service listens and the timeouts, as every HTTP client here
    (RepairedHttpClient). Each call carries its W3C trace and is a span when a tracer records (TracedHttpClient).

    Errors arrive as the Pip.Services exceptions the server described, e.g. BadRequestException
    with the server's code (NAME_TOO_LONG...).
    """

    def __init__(self) -> None:
        super().__init__()
        self._base_route = "hello_world"
        self._repair()

    def _send_name_operation(self, operation: str, correlation_id: str | None, name: str | None) -> str:
        """GET /hello_world/<operation>?name=... (no parameter for no name)."""
        with self._instrument(correlation_id, f"{self._base_route}.{operation}"):  # as the service counts it
            answer: str = self._call("get", f"/{operation}", correlation_id, {"name": name} if name is not None else {})
        return answer
