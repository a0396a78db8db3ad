"""A client that calls the controller in this process, for components deployed in the same container."""

from microservice_chassis.library_fixes.instrumentation import InstrumentedCall, instrument, repair_instrumentation

from pip_services3_rpc.clients import DirectClient

from IHelloWorldClient import IHelloWorldClient
from IHelloWorldController import CONTROLLER_LOCATOR, IHelloWorldController
from NameRules import check_name_argument


class HelloWorldDirectClient(DirectClient, IHelloWorldClient):
    """The same `greeting(correlation_id, name)` as the HTTP clients, without HTTP: same results, same
    exceptions (BadRequestException with the controller's code), counted the same way.

    References:
        - `hello-world:controller:*:*:1.0` (required) the controller to call
    """

    _controller: IHelloWorldController  # set by set_references (DirectClient's)

    def __init__(self) -> None:
        super().__init__()
        self._dependency_resolver.put("controller", CONTROLLER_LOCATOR)
        repair_instrumentation(self)

    def _instrument(self, correlation_id: str | None, name: str) -> InstrumentedCall:
        """The library's timing, with rejections logged at INFO, not ERROR (see instrument)."""
        return instrument(correlation_id, name, "call", self._logger, self._counters, self._tracer)

    def greeting(self, correlation_id: str | None, name: str | None) -> str:
        """The controller's greeting, timed and counted as a call."""
        check_name_argument(name, correlation_id)
        with self._instrument(correlation_id, "hello_world.greeting"):
            return self._controller.greeting(name, correlation_id)
