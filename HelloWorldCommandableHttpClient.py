"""A client of the commandable service, for other services to call this one the Pip.Services way."""

import library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from library_fixes.clients import RepairedHttpClient

from pip_services3_rpc.clients import CommandableHttpClient

from IHelloWorldClient import IHelloWorldClient
from tracing.client_spans import TracedHttpClient


class HelloWorldCommandableHttpClient(TracedHttpClient, RepairedHttpClient, CommandableHttpClient, IHelloWorldClient):
    """Calls POST /v1/hello_world/<command> (POST /v1/hello_world/greeting).

    Configuration parameters: where the service listens and the timeouts, as every HTTP client here
    (RepairedHttpClient). Each call carries its W3C trace and is a span when a tracer records (TracedHttpClient).

    Errors arrive as the Pip.Services exceptions the server described, e.g. BadRequestException
    with the server's code (NAME_TOO_LONG...); a timeout or a refused connection as InvocationException.
    """

    def __init__(self) -> None:
        super().__init__("v1/hello_world")
        self._repair()

    def _send_name_operation(self, operation: str, correlation_id: str | None, name: str | None) -> str:
        """POST /v1/hello_world/<operation> {"name": ...} ({} for no name)."""
        answer: str = self.call_command(operation, correlation_id, {"name": name} if name is not None else {})
        return answer
