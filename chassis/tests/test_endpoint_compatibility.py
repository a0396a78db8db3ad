"""A drop-in for any Pip.Services service: routes, schemas, auth, errors and JSON bodies as on the stock endpoint."""

import json

import bottle
import requests
from microservice_chassis.testing import assert_error, raw_request
from pip_services3_commons.errors import BadRequestException
from pip_services3_rpc.services import RestService

from doubles import Start


def test_commandable_service_takes_a_post_body(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    response = requests.post(f"{url}/adder/add", json={"a": 2, "b": 3}, timeout=5)
    assert (response.status_code, response.json()) == (200, 5)


def test_route_schema_validates_the_body(start_endpoint: Start) -> None:
    _, probe, url = start_endpoint()
    assert requests.post(f"{url}/probe/echo", json={"n": 1}, timeout=5).json() == {"n": 1}
    response = requests.post(f"{url}/probe/echo", json={"n": "one"}, timeout=5)
    assert_error(response.status_code, response.content, 400)
    assert probe.intercepted == 2  # the interceptor ran before both


def test_route_with_auth(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    denied = requests.get(f"{url}/probe/secret", timeout=5)
    assert_error(denied.status_code, denied.content, 401)
    assert denied.headers["WWW-Authenticate"] == 'Bearer realm="probe"'  # kept: it still means what it says
    allowed = requests.get(f"{url}/probe/secret", headers={"Authorization": "Bearer t"}, timeout=5)
    assert allowed.json() == "ok"


def test_bad_request_exception_from_a_handler_keeps_its_code(start_endpoint: Start) -> None:
    endpoint, _, url = start_endpoint()
    endpoint.register_route("GET", "/refuse", None, lambda: endpoint_error(BadRequestException("c", "NOPE", "refused")))
    response = requests.get(f"{url}/refuse", timeout=5)
    assert assert_error(response.status_code, response.content, 400)["code"] == "NOPE"


def endpoint_error(error: Exception) -> str:
    """What a RestService's send_error does: the library's ErrorDescription with its stack trace."""
    described: str = RestService.send_error(None, error)
    return described


def test_a_json_string_holding_json_is_decoded_as_the_stock_endpoint_does(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    body = json.dumps(json.dumps({"n": 5}))
    response = requests.post(f"{url}/probe/echo", data=body, headers={"Content-Type": "application/json"}, timeout=5)
    assert response.status_code == 200


def test_a_json_string_holding_no_json_gets_400(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    response = requests.post(
        f"{url}/probe/echo", data=json.dumps("not json"), headers={"Content-Type": "application/json"}, timeout=5
    )
    assert_error(response.status_code, response.content, 400)


def test_a_json_body_over_bottles_100_kib_is_read_up_to_the_endpoint_limit(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    body = b'{"a": 2, "b": 3' + b" " * 200_000 + b"}"
    response = requests.post(f"{url}/adder/add", data=body, headers={"Content-Type": "application/json"}, timeout=5)
    assert (response.status_code, response.json()) == (200, 5)


def test_a_raw_utf_8_query_is_read_as_utf_8(start_endpoint: Start) -> None:
    endpoint, _, url = start_endpoint()
    endpoint.register_route("GET", "/echo-query", None, lambda: bottle.request.query.getunicode("q"))
    status, body = raw_request(url, "GET /echo-query?q=é HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert (status, body.decode()) == (200, "é")
