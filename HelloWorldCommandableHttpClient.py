"""A client of the commandable service, for other services to call this one the Pip.Services way."""

from microservice_chassis.library_fixes.clients import RepairedHttpClient

from microservice_chassis.tracing.client_spans import TracedHttpClient
from pip_services3_rpc.clients import CommandableHttpClient

from IHelloWorldClient import IHelloWorldClient
from NameRules import check_name_argument


class HelloWorldCommandableHttpClient(TracedHttpClient, RepairedHttpClient, CommandableHttpClient, IHelloWorldClient):
    """Calls POST /v1/hello_world/greeting.

    Configuration parameters: where the service listens and the timeouts, as every HTTP client here
    (RepairedHttpClient). Each call carries its W3C trace and is a span when a tracer records (TracedHttpClient).

    Errors arrive as the Pip.Services exceptions the server described, e.g. BadRequestException
    with the server's code (NAME_TOO_LONG...); a timeout or a refused connection as InvocationException.
    """

    def __init__(self) -> None:
        super().__init__("v1/hello_world")
        self._repair()

    def greeting(self, correlation_id: str | None, name: str | None) -> str:
        """POST /v1/hello_world/greeting {"name": ...} ({} for no name)."""
        check_name_argument(name, correlation_id)
        answer: str = self.call_command("greeting", correlation_id, {"name": name} if name is not None else {})
        return answer
