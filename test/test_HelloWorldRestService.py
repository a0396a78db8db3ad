import http.client
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from microservice_chassis.http.endpoint import GranianHttpEndpoint
from microservice_chassis.services import api_documents
from microservice_chassis.testing import address_of, schemathesis_run

import HelloWorldRestService
from HelloWorldRestService import OPENAPI_PATH
from HelloWorldServiceFactory import HelloWorldServiceFactory
from IHelloWorldController import IHelloWorldController
from NameRules import NAME_RULES
from support import RunningProcess, imported_project_modules, imports_no_component_class, serving

Start = Callable[..., tuple[RunningProcess, str]]


def test_greets_the_given_name_as_a_json_string(service_url: str) -> None:
    response = requests.get(f"{service_url}/hello_world/greeting", params={"name": "John"}, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == "Hello, John!"


def test_without_a_name_greets_the_default(service_url: str) -> None:
    for params in ({}, {"name": ""}, {"name": "   "}):
        response = requests.get(f"{service_url}/hello_world/greeting", params=params, timeout=5)
        assert response.json() == "Hello, World!", params


def test_trims_the_name(service_url: str) -> None:
    response = requests.get(f"{service_url}/hello_world/greeting", params={"name": "  John  "}, timeout=5)
    assert response.json() == "Hello, John!"


def test_unicode_names_round_trip(service_url: str) -> None:
    for name in ("José", "Łukasz", "Дмитрий", "山田", "😀"):
        response = requests.get(f"{service_url}/hello_world/greeting", params={"name": name}, timeout=5)
        assert response.json() == f"Hello, {name}!"


def get_greeting(url: str, query: str, **headers: str) -> tuple[int, str | None, Any]:
    """GET with the query sent byte for byte (requests and urllib3 would re-encode "%ZZ" as "%25ZZ").

    Returns the status, the content type and the decoded JSON body.
    """
    connection = http.client.HTTPConnection(*address_of(url), timeout=5)
    try:
        connection.request("GET", f"/hello_world/greeting?{query}", headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("name=" + "x" * 257, "NAME_TOO_LONG"),
        ("name=a%00b", "NAME_HAS_CONTROL_CHARACTERS"),
        ("name=a%7Fb", "NAME_HAS_CONTROL_CHARACTERS"),
        ("name=a%0Ab", "NAME_HAS_CONTROL_CHARACTERS"),
        ("name=%FF%FE", "INVALID_ENCODING"),
        ("name=%C3", "INVALID_ENCODING"),
        ("name=%ZZ", "INVALID_ENCODING"),
        ("name=50%", "INVALID_ENCODING"),
        ("name=a&name=b", "NAME_REPEATED"),
    ],
)
def test_invalid_names_get_a_400_error_description(service_url: str, query: str, code: str) -> None:
    status, content_type, body = get_greeting(service_url, f"{query}&correlation_id=req-42")
    assert status == 400
    assert content_type == "application/json"
    assert (body["status"], body["code"], body["category"]) == (400, code, "BadRequest")
    assert body["correlation_id"] == "req-42"
    assert body["stack_trace"] is None


def test_correlation_id_may_come_in_a_header(service_url: str) -> None:
    _, _, body = get_greeting(service_url, "name=%FF", correlation_id="hdr-7")
    assert body["correlation_id"] == "hdr-7"


def test_a_whitespace_only_name_of_any_length_means_no_name(service_url: str) -> None:
    assert get_greeting(service_url, "name=" + "%20" * 300) == (200, "application/json", "Hello, World!")


def test_serves_its_openapi_document(service_url: str) -> None:
    response = requests.get(f"{service_url}/hello_world/swagger", timeout=5)
    assert response.status_code == 200
    document = yaml.safe_load(response.text)
    assert document == api_documents.complete(HelloWorldRestService.openapi_document())
    assert document["openapi"].startswith("3.")
    assert {"/hello_world/greeting", "/heartbeat", "/status"} <= set(document["paths"])
    assert "256" in document["components"]["parameters"]["Name"]["schema"]["pattern"]
    assert document["components"]["parameters"]["Name"]["description"].startswith(NAME_RULES)


@pytest.mark.parametrize("operation", sorted(IHelloWorldController.__abstractmethods__))
def test_each_operation_is_documented_with_the_shared_components(operation: str) -> None:
    """The path of every operation takes the shared correlation id, and the shared name where the operation takes a
    name, and answers a documented 400: a parameter or answer the document lacks would be tested by nobody. An
    operation of another shape (farewell(name, times)) adds its own parameters after these."""
    path = yaml.safe_load(OPENAPI_PATH.read_text())["paths"][f"/hello_world/{operation}"]
    assert set(path) == {"get"} and path["get"]["operationId"] == operation
    parameters = path["get"]["parameters"]
    assert {"$ref": "#/components/parameters/CorrelationId"} in parameters
    takes_a_name = "name" in inspect.signature(getattr(IHelloWorldController, operation)).parameters
    assert ({"$ref": "#/components/parameters/Name"} in parameters) == takes_a_name
    assert path["get"]["responses"]["400"]["$ref"].startswith(
        "#/components/responses/"
    )  # InvalidName, or one of its own
    assert {"200", "400"} <= set(path["get"]["responses"])


class RecordingRestService(HelloWorldRestService.HelloWorldRestService):
    """The real service, noting each route it registers on the real endpoint."""

    def __init__(self) -> None:
        super().__init__()
        self.routes: set[tuple[str, str]] = set()

    def register_route(self, method: str, route: str, schema: object, handler: Callable[..., Any]) -> None:
        self.routes.add((method.lower(), "/hello_world/" + route.lstrip("/")))
        super().register_route(method, route, schema, handler)


def test_every_route_is_in_the_document_and_every_operation_has_a_route(port: int) -> None:
    """A route missing from the OpenAPI document (or documented but not served), or an operation of the controller
    without its REST route, fails here."""
    service = RecordingRestService()
    with serving(
        GranianHttpEndpoint,
        port,
        (HelloWorldServiceFactory.HttpServiceDescriptor, service),
        probe="/hello_world/greeting",
    ) as url:
        document = yaml.safe_load(requests.get(f"{url}/hello_world/swagger", timeout=5).text)
    documented = {
        (method, path)
        for path, item in document["paths"].items()
        if path.startswith("/hello_world/")
        for method in item
    }
    assert service.routes - {("get", "/hello_world/swagger")} == documented
    operations = {name for name in IHelloWorldController.__abstractmethods__}
    assert {path.rpartition("/")[2] for _, path in documented} == operations


def test_service_agrees_with_its_openapi_document(start_process: Start, tmp_path: Path) -> None:
    """schemathesis, all checks, against the whole running service and the document it serves:
    every generated request, valid or not, gets a documented answer and never a 5xx."""
    _, url = start_process()
    result = schemathesis_run(f"{url}/hello_world/swagger", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No issues found" in result.stdout


def test_imports_no_component_class_only_the_controller_interface() -> None:
    """It finds its controller by descriptor and types against IHelloWorldController."""
    assert imports_no_component_class(HelloWorldRestService.__file__)
    assert "IHelloWorldController" in imported_project_modules(HelloWorldRestService.__file__)
