"""One path from any failure to the answer a client gets: a Pip.Services ErrorDescription in JSON, no internals."""

import library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from library_fixes.error_bodies import bounded

import errno
import json
import re
from collections.abc import Iterable
from http import HTTPStatus

import bottle
from pip_services3_commons.convert import JsonConverter
from pip_services3_commons.errors import ApplicationException, ApplicationExceptionFactory, ErrorDescription

from http_endpoint.rsgi_bridge import CORRELATION_ID_KEY, Headers

JSON = "application/json"
# Pip.Services error categories of the statuses the endpoint answers itself.
CATEGORIES = {401: "Unauthorized", 403: "Unauthorized", 404: "NotFound", 405: "Unsupported", 409: "Conflict"}
# Headers of a service's error answer that still mean something once its body is replaced.
KEPT_HEADERS = {"allow", "retry-after", "www-authenticate"}
# The errors by which the system says it is out of descriptors or memory for now.
EXHAUSTION_ERRNOS = (errno.EMFILE, errno.ENFILE, errno.ENOMEM)
# The code of a 503 for an exhausted resource: the client may retry (Retry-After).
EXHAUSTED = "SERVICE_UNAVAILABLE"
_PHRASES = {status.value: status.phrase for status in HTTPStatus}


def exhaustion(error: BaseException | None) -> str | None:
    """Why `error` says the process is out of descriptors or memory for now (a passing state, answered 503), or
    None for any other error. A handler opening a file at the open-files limit raises it; so may the code that
    formats that handler's traceback (Python 3.15's traceback imports its `_colorize` module lazily)."""
    if isinstance(error, OSError) and error.errno in EXHAUSTION_ERRNOS:
        return error.strerror or str(error)
    return None


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
    return describe(status, correlation_id, content.decode("utf-8", "replace")[:200] or None)


def fault(description: ErrorDescription) -> ApplicationException:
    """A handler's 5xx as the error its log event carries (one event: the stack in its error, not in its message),
    keeping the type of the exception that caused it (bottle_error puts it in the description's `type`)."""
    error = ApplicationExceptionFactory.create(description)
    error.original_type = description.type
    return error


def internal_error(correlation_id: str | None) -> ErrorDescription:
    """What a client learns of a fault on our side: its details belong in the log, written where it happened."""
    return describe(500, correlation_id, "internal error")


def error_answer(description: ErrorDescription, headers: Iterable[tuple[str, str]] = ()) -> tuple[int, Headers, bytes]:
    """The answer for an error: its JSON without stack trace or cause, with the headers that still apply."""
    description.stack_trace = description.cause = None
    content = JsonConverter.to_json(description).encode()
    kept = [(name, value) for name, value in headers if name.lower() in KEPT_HEADERS]
    return description.status, [("Content-Type", JSON), *kept], content


def bottle_error(error: bottle.HTTPError) -> str:
    """bottle's own errors (404, 405, a handler's exception) as JSON instead of its HTML page; a 5xx keeps its
    traceback here so that the pipeline can log it (and only it) before the client gets "internal error"."""
    bottle.response.content_type = JSON
    description = describe(error.status_code, bottle.request.environ.get(CORRELATION_ID_KEY))
    if (reason := exhaustion(error.exception)) is not None:
        # Not a fault with a traceback: the pipeline answers it as the sender's 503 refusal.
        bottle.response.status = 503
        refusal: str = JsonConverter.to_json(describe(503, description.correlation_id, reason, EXHAUSTED))
        return refusal
    if error.status_code < 500:
        description.message = bounded(str(error.body))  # bottle's 404 quotes the whole path
    else:
        description.type = type(error.exception).__name__
        description.message = repr(error.exception)
        description.stack_trace = error.traceback
    text: str = JsonConverter.to_json(description)
    return text
