"""The REST services' fixes (pip_services3_rpc 3.3.4 RestService): error bodies without internals, the
endpoint's correlation id, the tracer's references, instrumentation, and a cheaper send_result."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from microservice_chassis.library_fixes.error_bodies import ERROR_KEY, error_description, error_json
from microservice_chassis.library_fixes.instrumentation import (
    InstrumentedCall,
    instrument,
    is_rejection,
    repair_instrumentation,
)

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import bottle
from pip_services3_commons.errors import ApplicationException
from pip_services3_commons.refer import IReferences

if TYPE_CHECKING:  # for the checker, the mixin is what it mixes into
    from pip_services3_rpc.services import RestService as RestServiceBase
else:
    RestServiceBase = object


class RepairedRestService(RestServiceBase):
    """A mixin for a RestService or CommandableHttpService subclass (listed before it), bringing the fixes above
    (repair_instrumentation, instrument, error_description) and the endpoint's reading of the correlation id.

    References (those of every Pip.Services REST service):
        - `*:endpoint:http:*:1.0` (optional) the shared endpoint; without one the service opens its own
        - `*:swagger-service:*:*:1.0` (optional) the Swagger UI that lists the service's document
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        repair_instrumentation(self)

    def set_references(self, references: IReferences) -> None:
        """Also hands the references to the service's tracer: pip_services3_rpc 3.3.4 RestService.set_references
        never does, so a tracer configured in config.yml (LogTracer) traced no call of any service."""
        super().set_references(references)
        self._tracer.set_references(references)

    def _get_correlation_id(self) -> str | None:
        """The correlation id as the service's endpoint read it.

        pip_services3_rpc 3.3.4's RestService._get_correlation_id reads the query and headers again itself instead
        of asking its endpoint (`get_correlation_id`, which the stock HttpEndpoint reads the same way): a service
        on GranianHttpEndpoint then logged an id that endpoint had not checked, and read it twice per request.
        """
        correlation_id: str | None = self._endpoint.get_correlation_id()
        return correlation_id

    def _instrument(self, correlation_id: str | None, name: str) -> InstrumentedCall:
        """The library's timing, with rejections logged at INFO and failures counted as exec_errors (see instrument)."""
        return instrument(correlation_id, name, "exec", self._logger, self._counters, self._tracer)

    def _instrumented(self, name: str, call: Callable[[str | None], Any]) -> str | None:
        """Answers a request with `call(correlation_id)`, timed and counted as `name`: its result as JSON; a
        rejection (is_rejection) as its ErrorDescription; any other failure, counted and logged, goes on to the
        endpoint, which answers it as an internal error. Every route of every service answers through here."""
        correlation_id = self._get_correlation_id()
        try:
            with self._instrument(correlation_id, name):
                result = call(correlation_id)
        except ApplicationException as error:
            if not is_rejection(error):
                raise
            return self.send_error(error)
        return self.send_result(result)

    def send_error(self, error: Exception) -> str:
        """Sends the error as a Pip.Services ErrorDescription without the server's internals (see
        error_description), and leaves the description for the endpoint under ERROR_KEY."""
        description = error_description(error)
        bottle.request.environ[ERROR_KEY] = description
        bottle.response.status = description.status
        bottle.response.content_type = "application/json"
        return error_json(description)

    def send_result(self, result: Any) -> str | None:
        """As pip_services3_rpc 3.3.4 RestService.send_result (200 with the JSON result, 204 for None), for less when
        the result is a string, as a greeting is: HttpResponseSender builds a JSONEncoder on every call (json.dumps
        with `default=`, which a string never needs) and a view of the headers to set one."""
        if type(result) is not str:
            answer: str | None = super().send_result(result)
            return answer
        bottle.response.set_header("Content-Type", "application/json")
        bottle.response.status = 200
        return json.dumps(result)
