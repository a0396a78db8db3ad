"""The REST face of the controller: GET /hello_world/greeting?name=John -> "Hello, John!"."""

from microservice_chassis.library_fixes.rest_service import RepairedRestService

import re
from pathlib import Path
from typing import Any

import bottle
import yaml
from microservice_chassis.metrics.counted_operations import ICountedOperations
from microservice_chassis.services import api_documents
from pip_services3_commons.errors import BadRequestException
from pip_services3_commons.refer import IReferences
from pip_services3_rpc.services import RestService

from IHelloWorldController import CONTROLLER_LOCATOR, IHelloWorldController
from NameRules import NAME_PATTERN, NAME_RULES

# The OpenAPI document of the routes, kept beside this file and served at /hello_world/swagger with the shared
# components it refers to (api_documents).
OPENAPI_PATH = Path(__file__).with_name("HelloWorldRestService.openapi.yml")
# A "%" not followed by two hex digits: bottle would keep it as text ("%ZZ" greeted as "%ZZ").
MALFORMED_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


class HelloWorldRestService(RepairedRestService, RestService, ICountedOperations):
    """Serves the greeting on the shared HTTP endpoint under the base route /hello_world.

    Configuration parameters:
        - swagger.enable: serve the OpenAPI document at /hello_world/swagger (default true)

    References:
        - `hello-world:controller:*:*:1.0` (required) the controller that composes greetings
        - and those of every service here: the endpoint, the Swagger UI (RepairedRestService)
    """

    _controller: IHelloWorldController  # set by set_references

    def __init__(self) -> None:
        super().__init__()
        self._base_route = "hello_world"
        self._swagger_enabled = True
        self._dependency_resolver.put("controller", CONTROLLER_LOCATOR)

    def set_references(self, references: IReferences) -> None:
        super().set_references(references)
        self._controller = self._dependency_resolver.get_one_required("controller")

    def register(self) -> None:
        self.register_route("GET", "/greeting", None, self.greeting)
        self._register_open_api_spec(api_documents.to_yaml(api_documents.complete(openapi_document())))

    def counted_operations(self) -> list[str]:
        return ["hello_world.greeting.exec"]

    def greeting(self) -> str | None:
        """GET /greeting?name=John, counted as hello_world.greeting (bottle passes route parameters only, so the
        name is read from the request's query)."""
        return self._instrumented("hello_world.greeting", self._greet)

    def _greet(self, correlation_id: str | None) -> str:
        return self._controller.greeting(read_name(correlation_id), correlation_id)


def read_name(correlation_id: str | None) -> str | None:
    """The request's `name` query parameter, decoded strictly.

    bottle 0.12 decodes the query as latin-1: `getunicode` re-decodes it as UTF-8 but silently returns nothing for
    bytes that are not UTF-8 (so "%FF%FE" became "World"). Here they are rejected, as are malformed escapes and a
    repeated name (ambiguous: which one did the client mean?).
    """
    query = bottle.request.query_string
    if "%" in query and MALFORMED_ESCAPE.search(query):
        raise BadRequestException(correlation_id, "INVALID_ENCODING", "Query has a malformed percent-escape")
    values = bottle.request.query.getall("name")
    if len(values) > 1:
        raise BadRequestException(correlation_id, "NAME_REPEATED", "Give the name parameter at most once")
    if not values:
        return None
    try:
        name: str = values[0].encode("latin-1").decode("utf-8")
        return name
    except UnicodeError:
        raise BadRequestException(correlation_id, "INVALID_ENCODING", "Name is not valid UTF-8") from None


def openapi_document() -> dict[str, Any]:
    """The routes' document, its Name parameter stating the rules of a name (NameRules) before what the query adds."""
    document: dict[str, Any] = yaml.safe_load(OPENAPI_PATH.read_text())
    name = document["components"]["parameters"]["Name"]
    name["schema"]["pattern"] = NAME_PATTERN
    name["description"] = f"{NAME_RULES} {name['description']}"
    return document
