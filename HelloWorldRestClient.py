"""A typed client of the hello-world REST service, for other services to call it the Pip.Services way."""

from microservice_chassis.library_fixes.clients import RepairedHttpClient

from microservice_chassis.tracing.client_spans import TracedHttpClient
from pip_services3_rpc.clients import RestClient

from IHelloWorldClient import IHelloWorldClient
from NameRules import check_name_argument


class HelloWorldRestClient(TracedHttpClient, RepairedHttpClient, RestClient, IHelloWorldClient):
    """Calls GET /hello_world/greeting.

    Configuration parameters: where the service listens and the timeouts, as every HTTP client here
    (RepairedHttpClient). Each call carries its W3C trace and is a span when a tracer records (TracedHttpClient).

    Errors arrive as the Pip.Services exceptions the server described, e.g. BadRequestException
    with the server's code (NAME_TOO_LONG...).
    """

    def __init__(self) -> None:
        super().__init__()
        self._base_route = "hello_world"
        self._repair()

    def greeting(self, correlation_id: str | None, name: str | None) -> str:
        """GET /hello_world/greeting?name=... (no parameter for no name)."""
        check_name_argument(name, correlation_id)
        with self._instrument(correlation_id, "hello_world.greeting"):  # as the service counts it
            answer: str = self._call("get", "/greeting", correlation_id, {"name": name} if name is not None else {})
        return answer
