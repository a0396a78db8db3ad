"""A client that calls the controller in this process, for components deployed in the same container."""

import library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from library_fixes.instrumentation import InstrumentedCall, instrument, repair_instrumentation

from pip_services3_rpc.clients import DirectClient

from IHelloWorldClient import IHelloWorldClient
from IHelloWorldController import CONTROLLER_LOCATOR, IHelloWorldController


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

    def _send_name_operation(self, operation: str, correlation_id: str | None, name: str | None) -> str:
        """The controller's method `operation`, timed and counted as a call."""
        with self._instrument(correlation_id, f"hello_world.{operation}"):
            answer: str = getattr(self._controller, operation)(name, correlation_id)
        return answer
