"""One error format: every refusal and fault an ErrorDescription in JSON, bounded, never with its stack trace."""

from microservice_chassis.library_fixes.loggers import UtcConsoleLogger

import errno
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from microservice_chassis.http.rsgi_bridge import call_wsgi
from microservice_chassis.log.client_text import MAX_CLIENT_TEXT
from microservice_chassis.testing import assert_error, raw_request

from doubles import Start


def test_unknown_route_gets_404_json(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    response = requests.get(f"{url}/nowhere", params={"correlation_id": "c-404"}, timeout=5)
    description = assert_error(response.status_code, response.content, 404)
    assert (description["code"], description["correlation_id"]) == ("NOT_FOUND", "c-404")
    assert description["category"] == "NotFound"  # Pip.Services' category, as its clients map it to an exception


def test_a_404_message_is_bounded_as_every_error_message(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    response = requests.get(f"{url}/" + "B" * 5000, timeout=5)
    message = assert_error(response.status_code, response.content, 404)["message"]
    assert message.startswith("Not found: '/BBB") and len(message) <= MAX_CLIENT_TEXT


def test_wrong_method_gets_405_json_with_allow(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    response = requests.delete(f"{url}/heartbeat", timeout=5)
    assert assert_error(response.status_code, response.content, 405)["category"] == "Unsupported"
    assert response.headers["Allow"] == "GET"


# The endpoint's refusals by status, each sent as bytes so that nothing between changes it.
REFUSALS = {
    413: b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n",
    414: b"GET /heartbeat?q=" + b"x" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    431: b"GET /heartbeat HTTP/1.1\r\nHost: x\r\nX-Big: " + b"x" * 17000 + b"\r\n\r\n",
}


def documented_codes() -> dict[int, str]:
    """The code docs/errors.md gives each status in its table of the endpoint's codes (one code per status)."""
    table = (
        (Path(__file__).parent.parent / "docs" / "errors.md")
        .read_text()
        .split("## The endpoint's codes", 1)[1]
        .split("\n## ", 1)[0]
    )
    rows = re.findall(r"^\| (\d{3}) \| `([A-Z_]+)` \|", table, re.MULTILINE)
    return {int(status): code for status, code in rows if int(status) in REFUSALS}


@pytest.mark.parametrize("status", sorted(REFUSALS))
def test_a_refusal_has_the_documented_code_on_every_python(start_endpoint: Start, status: int) -> None:
    """Codes are a contract with clients: Python 3.13 renamed 413's and 414's phrases (RFC 9110), and a code
    derived from the phrase would change with the interpreter."""
    _, _, url = start_endpoint()
    answer, body = raw_request(url, REFUSALS[status])
    assert assert_error(answer, body, status)["code"] == documented_codes()[status]


def test_unexpected_exception_gets_internal_error_and_is_logged(
    start_endpoint: Start, capfd: pytest.CaptureFixture[str]
) -> None:
    """Logged once, with its stack, by the service's console logger (the library's logs only a plain exception's
    message)."""
    logger = UtcConsoleLogger()
    _, _, url = start_endpoint(logger=logger)
    response = requests.get(f"{url}/probe/boom", headers={"correlation_id": "c-500"}, timeout=5)
    description = assert_error(response.status_code, response.content, 500)
    assert (description["message"], description["correlation_id"]) == ("internal error", "c-500")
    assert "secret" not in response.text and "Traceback" not in response.text
    logged = capfd.readouterr().err
    assert "[c-500:ERROR:" in logged and "secret detail" in logged and "Traceback" in logged


def test_service_errors_lose_their_stack_trace(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    response = requests.post(f"{url}/adder/add", json={"a": "not a number"}, timeout=5)
    description = assert_error(response.status_code, response.content, 400)
    assert description["category"] == "BadRequest"


def test_maintenance_answers_503_with_retry_after_but_to_liveness(start_endpoint: Start) -> None:
    """Readiness (/status) and every route but liveness: a pod in maintenance leaves the Service's endpoints, and
    is not restarted for it (a restart would not end maintenance, only lose the pod's warm state)."""
    _, _, url = start_endpoint("options.maintenance_enabled", True)
    for path in ("/status", "/probe/boom", "/nowhere"):
        response = requests.get(f"{url}{path}", timeout=5)
        description = assert_error(response.status_code, response.content, 503)
        assert description["message"] == "Service is in maintenance"
        assert response.headers["Retry-After"] == "3600"
    assert requests.get(f"{url}/heartbeat", timeout=5).status_code == 200


def test_a_failure_the_app_reports_with_exc_info_reaches_the_endpoint_as_itself() -> None:
    """bottle reports a failure of its own error handling (Python 3.15 at the open-files limit: formatting the
    traceback imports a module) as an HTML 500 with exc_info: the bridge raises it, so the pipeline can tell a
    descriptor shortage (503) from a fault."""
    failure = OSError(errno.EMFILE, "Too many open files")

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "text/html")], (OSError, failure, None))
        return [b"<h1>Critical error</h1>"]

    with pytest.raises(OSError) as raised:
        call_wsgi(app, {})
    assert raised.value is failure
