"""What the endpoint wraps around the handlers services register, as the stock HttpEndpoint does
(pip_services3_rpc 3.3.4): a route's schema checked before its handler, an authorizer before its action, an
interceptor before every request it matches."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import json
import re
from collections.abc import Callable
from typing import Any

import bottle
from pip_services3_commons.errors import ApplicationException, BadRequestException, ErrorDescriptionFactory
from pip_services3_commons.validate import Schema

from microservice_chassis.http.errors import JSON, error_answer
from microservice_chassis.http.guards import BODY_METHODS


def validated(schema: Schema | None, handler: Callable[..., Any]) -> Callable[..., Any]:
    """`handler`, after `schema` (if any) has validated the query, the route parameters and the JSON body; a
    ValidationException, or any ApplicationException the handler did not catch, answers its ErrorDescription."""

    def route(*args: Any, **kwargs: Any) -> Any:
        try:
            if schema is not None:
                data = _request_data()
                data.update(kwargs)
                schema.validate_and_throw_exception(data.get("correlation_id"), data, False)
            return handler(*args, **kwargs)
        except ApplicationException as error:
            status, _, content = error_answer(ErrorDescriptionFactory.create(error))
            bottle.response.status = status
            bottle.response.content_type = JSON
            return content

    return route


def authorized(authorize: Callable[..., Any], action: Callable[..., Any]) -> Callable[..., Any]:
    """`action` after `authorize()`, which raises to refuse."""

    def route(*args: Any, **kwargs: Any) -> Any:
        bottle.request.params["kwargs"] = kwargs  # where the stock authorizers look for route params
        authorize()
        return action(*args, **kwargs)

    return route


def intercepting(route: str, action: Callable[..., Any]) -> Callable[[], None]:
    """A before-request hook that runs `action` for every URL `route` matches (any URL for no route)."""
    pattern = re.compile(".*" + fixed(route))

    def intercept() -> None:
        if not route or pattern.match(bottle.request.url):
            action()

    return intercept


def fixed(route: str | None) -> str:
    """The route with its leading slash, as services may register it without one."""
    return "" if not route else route if route.startswith("/") else "/" + route


def _request_data() -> dict[str, Any]:
    """What a route's schema validates: the query parameters and, for methods with a body, the JSON body.

    As the stock HttpEndpoint (`HttpEndpoint.__get_data`), a body that is a JSON string holding JSON is decoded
    once more: services and their tests send bodies that way.
    """
    data: dict[str, Any] = {key: bottle.request.query.get(key) for key in bottle.request.query}
    if bottle.request.method in BODY_METHODS and bottle.request.content_length:
        try:
            body = bottle.request.json
            data["body"] = json.loads(body) if isinstance(body, str) else body
        except ValueError:
            raise BadRequestException(None, "INVALID_JSON", "Body is not valid JSON") from None
    return data
