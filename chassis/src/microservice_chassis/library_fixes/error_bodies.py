"""Error answers without the server's internals and with bounded texts (pip_services3_rpc 3.3.4's send_error,
pip_services3_commons 3.3.14's ValidationException)."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

from pip_services3_commons.convert import JsonConverter
from pip_services3_commons.errors import ErrorDescription, ErrorDescriptionFactory

from microservice_chassis.log.client_text import bounded

# Where a service leaves, in the WSGI environ, the ErrorDescription whose JSON it answered: an endpoint that makes
# every error answer itself (GranianHttpEndpoint) takes it from there instead of parsing the body back.
ERROR_KEY = "chassis.error"


def error_description(error: Exception) -> ErrorDescription:
    """The ErrorDescription of `error` as a client may see it: without the server's internals, its texts bounded.

    pip_services3_rpc 3.3.4 RestService.send_error (HttpResponseSender.send_error) puts the server's stack
    trace and the error's cause into every error body sent to clients. And pip_services3_commons 3.3.14
    ValidationException quotes every failed rule in its message and, as JSON, in its details (10,000 unexpected
    properties made a 2.7 MB answer): the message and each detail are cut (process.LogText.bounded).
    """
    description = ErrorDescriptionFactory.create(error)
    description.stack_trace = None
    description.cause = None
    description.message = bounded(description.message)
    if description.details:
        description.details = {key: bounded(str(value)) for key, value in description.details.items()}
    return description


def error_json(description: ErrorDescription) -> str:
    """The one serialization of an error answer's body."""
    text: str = JsonConverter.to_json(description)
    return text
