"""One path from any failure to the answer a client gets: a Pip.Services ErrorDescription in JSON, no internals."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from microservice_chassis.library_fixes.error_bodies import ERROR_KEY, error_json

import errno
import json
import re
import traceback
from collections.abc import Iterable
from http import HTTPStatus

import bottle
from pip_services3_commons.errors import ApplicationException, ErrorDescription

from microservice_chassis.http.rsgi_bridge import CORRELATION_ID_KEY, Headers
from microservice_chassis.log.client_text import bounded

JSON = "application/json"
# Pip.Services error categories of the statuses the endpoint answers itself.
CATEGORIES = {401: "Unauthorized", 403: "Unauthorized", 404: "NotFound", 405: "Unsupported", 409: "Conflict"}
# Headers of a service's error answer that still mean something once its body is replaced.
KEPT_HEADERS = {"allow", "retry-after", "www-authenticate"}
# The errors by which the system says it is out of descriptors or memory for now.
EXHAUSTION_ERRNOS = (errno.EMFILE, errno.ENFILE, errno.ENOMEM)
# The code of a 503 for an exhausted resource: the client may retry (Retry-After).
EXHAUSTED = "SERVICE_UNAVAILABLE"
# Python 3.13 took RFC 9110's new phrases for these statuses; their codes and messages keep the older ones, the
# codes the service has always answered (REQUEST_ENTITY_TOO_LARGE), on every Python.
_EARLIER_PHRASES = {
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    416: "Requested Range Not Satisfiable",
    422: "Unprocessable Entity",
}
_PHRASES = {status.value: status.phrase for status in HTTPStatus} | _EARLIER_PHRASES
# Where bottle_error leaves the exception of a fault, for the pipeline to log with its stack.
FAULT_KEY = "chassis.fault"


def exhaustion(error: BaseException | None) -> str | None:
    """Why `error` says the process is out of descriptors or memory for now (a passing state, answered 503), or
    None for any other error (a spent budget of the endpoint's, BudgetSpentError, says so too). A handler opening a
    file at the open-files limit raises it; so may the code that formats that handler's traceback (Python 3.15's
    traceback imports its `_colorize` module lazily)."""
    if isinstance(error, OSError) and error.errno in EXHAUSTION_ERRNOS:
        return error.strerror or str(error)
    if isinstance(error, BudgetSpentError):
        return str(error)
    return None


class BudgetSpentError(Exception):
    """One of the endpoint's own memory budgets is spent for now: refused 503 as the system's ENOMEM is, since it
    stands for the same, before the pod's memory limit would kill the process."""


class RequestRejectedError(Exception):
    """A request the endpoint refuses before any handler runs (limits, framing, deadline)."""

    def __init__(
        self,
        status: int,
        message: str,
        correlation_id: str | None = None,
        code: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.description = describe(status, correlation_id, message, code)
        self.headers = list(headers)


def describe(
    status: int, correlation_id: str | None, message: str | None = None, code: str | None = None
) -> ErrorDescription:
    """An ErrorDescription for an HTTP status: code from its phrase (404 NOT_FOUND), category from its family."""
    phrase = _PHRASES.get(status, "Error")
    description = ErrorDescription()
    description.category = CATEGORIES.get(status, "Internal" if status >= 500 else "BadRequest")
    description.status = status
    description.code = code or ("INTERNAL_ERROR" if status >= 500 else re.sub(r"\W+", "_", phrase).strip("_").upper())
    description.message = message or phrase
    description.correlation_id = correlation_id
    return description


def of_service_answer(status: int, content: bytes, correlation_id: str | None) -> ErrorDescription:
    """A handler's error answer: kept when it is an ErrorDescription (Pip.Services send_error), else described.

    bottle's own errors (404, 405) arrive here too, as the body the endpoint's bottle error handler wrote.
    """
    try:
        parsed = json.loads(content)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and "code" in parsed:
        description = ErrorDescription.from_json({"stack_trace": None, **parsed})
        description.status = status
        description.correlation_id = description.correlation_id or correlation_id
        return description
    return describe(status, correlation_id, bounded(content.decode("utf-8", "replace")) or None)


def fault_event(exception: BaseException, correlation_id: str | None) -> ApplicationException:
    """A fault as the error of its one log event: code INTERNAL_ERROR, the exception's type (`original_type`, which
    the log format reads), its repr as the message and its traceback as the stack, where ConsoleLogger and the JSON
    format look for one."""
    error = ApplicationException("Internal", correlation_id, "INTERNAL_ERROR", repr(exception))
    error.stack_trace = "".join(traceback.format_exception(exception)).rstrip()
    error.original_type = type(exception).__name__
    return error


def internal_error(correlation_id: str | None) -> ErrorDescription:
    """What a client learns of a fault on our side: its details belong in the log, written where it happened."""
    return describe(500, correlation_id, "internal error")


def error_answer(
    description: ErrorDescription, headers: Iterable[tuple[str, str]] = (), content: bytes | None = None
) -> tuple[int, Headers, bytes]:
    """The answer for an error: its JSON without stack trace or cause (`content` when a service made it already),
    with the headers that still apply."""
    if content is None:
        description.stack_trace = description.cause = None
        content = error_json(description).encode()
    kept = [(name, value) for name, value in headers if name.lower() in KEPT_HEADERS]
    return description.status, [("Content-Type", JSON), *kept], content


def bottle_error(error: bottle.HTTPError) -> str:
    """bottle's own errors (404, 405, a handler's exception) as JSON instead of its HTML page. Their description,
    and for a fault the exception itself, are left in the environ (ERROR_KEY, FAULT_KEY): the pipeline logs a fault
    once, with its stack, and answers the client "internal error"."""
    environ = bottle.request.environ
    bottle.response.content_type = JSON
    correlation_id = environ.get(CORRELATION_ID_KEY)
    if (reason := exhaustion(error.exception)) is not None:
        # Not a fault with a traceback: the pipeline answers it as the sender's 503 refusal.
        bottle.response.status = 503
        description = describe(503, correlation_id, reason, EXHAUSTED)
    elif error.status_code < 500:
        description = describe(error.status_code, correlation_id, bounded(str(error.body)))  # 404 quotes the path
    else:
        description = internal_error(correlation_id)
        description.status = error.status_code
        environ[FAULT_KEY] = error.exception
    environ[ERROR_KEY] = description
    return error_json(description)
