"""The REST face of the controller: GET /hello_world/greeting?name=..."""

import bottle
from pip_services3_commons.refer import Descriptor, IReferences
from pip_services3_rpc.services import RestService

from HelloWorldController import HelloWorldController

# Any controller of the hello-world group satisfies this service (a mock, a remote one...).
CONTROLLER_LOCATOR = Descriptor("hello-world", "controller", "*", "*", "1.0")


class HelloWorldRestService(RestService):
    """Serves the greeting on the shared HTTP endpoint under the base route /hello_world.

    References:
        - `hello-world:controller:*:*:1.0` (required) the controller that composes greetings
        - `*:endpoint:http:*:1.0` (optional) the shared endpoint; without one the service opens its own
    """

    def __init__(self) -> None:
        super().__init__()
        self._base_route = "hello_world"
        self._dependency_resolver.put("controller", CONTROLLER_LOCATOR)
        self._controller: HelloWorldController | None = None

    def set_references(self, references: IReferences) -> None:
        super().set_references(references)
        self._controller = self._dependency_resolver.get_one_required("controller")

    def register(self) -> None:
        self.register_route("GET", "/greeting", None, self._greeting)

    def _greeting(self) -> str:
        """Handles GET /greeting. Bottle passes route parameters only, so the query is read from the request.

        `getunicode` is used because bottle 0.12 decodes query strings as latin-1;
        it re-decodes them as UTF-8 so that "José" arrives as "José".
        """
        correlation_id = self._get_correlation_id()
        timing = self._instrument(correlation_id, "hello_world.greeting")
        try:
            name = bottle.request.query.getunicode("name")
            return self.send_result(self._controller.greeting(name))
        finally:
            timing.end_timing()
