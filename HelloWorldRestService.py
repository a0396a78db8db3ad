"""The REST face of the controller: GET /hello_world/<operation>?name=... for each name operation
(GET /hello_world/greeting?name=John)."""

import library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from library_fixes.rest_service import RepairedRestService

import re
from collections.abc import Callable
from pathlib import Path

import bottle
import yaml
from pip_services3_commons.errors import BadRequestException
from pip_services3_commons.refer import IReferences
from pip_services3_rpc.services import RestService

import api_documents
from ICountedOperations import ICountedOperations
from IHelloWorldController import CONTROLLER_LOCATOR, NAME_OPERATIONS, IHelloWorldController

# The OpenAPI document of the routes, kept beside this file and served at /hello_world/swagger with the shared
# components it refers to (api_documents).
OPENAPI_PATH = Path(__file__).with_name("HelloWorldRestService.openapi.yml")
OPENAPI = yaml.safe_load(OPENAPI_PATH.read_text())
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
        for operation in NAME_OPERATIONS:
            self.register_route("GET", f"/{operation}", None, self._name_route(operation))
        self._register_open_api_spec(api_documents.to_yaml(api_documents.complete(OPENAPI)))

    def counted_operations(self) -> list[str]:
        return [f"{self._counter(operation)}.exec" for operation in NAME_OPERATIONS]

    def _counter(self, operation: str) -> str:
        """The name GET /<operation> is counted as: hello_world.<operation>."""
        return f"{self._base_route}.{operation}"

    def _name_route(self, operation: str) -> Callable[[], str | None]:
        """The handler of GET /<operation>, counted as hello_world.<operation>; bottle passes route parameters
        only, so the name is read from the request's query."""
        counter = self._counter(operation)

        def answer(correlation_id: str | None) -> str:
            text: str = getattr(self._controller, operation)(self._read_name(correlation_id), correlation_id)
            return text

        def handle() -> str | None:
            return self._instrumented(counter, answer)

        return handle

    @staticmethod
    def _read_name(correlation_id: str | None) -> str | None:
        """The `name` query parameter, decoded strictly.

        bottle 0.12 decodes the query as latin-1: `getunicode` re-decodes it as UTF-8 but silently
        returns nothing for bytes that are not UTF-8 (so "%FF%FE" became "World"). Here they are rejected,
        as are malformed escapes and a repeated name (ambiguous: which one did the client mean?).
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
