"""The headers of every answer: the security headers, and CORS (preflight included) for the configured origins only."""

import pytest
import requests

from doubles import Start


def test_security_headers_and_no_cors_by_default(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    response = requests.get(f"{url}/heartbeat", headers={"Origin": "https://evil.example"}, timeout=5)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert not any(c.isdigit() for c in response.headers["Server"])
    assert "Access-Control-Allow-Origin" not in response.headers
    assert requests.options(f"{url}/heartbeat", timeout=5).status_code == 405


def preflight_of(url: str, method: str) -> requests.Response:
    """A browser's CORS preflight from https://app.example for `method` on /probe/echo."""
    headers = {"Origin": "https://app.example", "Access-Control-Request-Method": method}
    return requests.options(f"{url}/probe/echo", headers=headers, timeout=5)


def test_configured_origins_get_cors_and_preflight(start_endpoint: Start) -> None:
    _, _, url = start_endpoint("cors_origins", "https://app.example")
    preflight = preflight_of(url, "POST")
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "correlation_id" in preflight.headers["Access-Control-Allow-Headers"]
    allowed = requests.get(f"{url}/heartbeat", headers={"Origin": "https://app.example"}, timeout=5)
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert allowed.headers["Vary"] == "Origin"  # the answer depends on the Origin: caches must not share it
    other = requests.get(f"{url}/heartbeat", headers={"Origin": "https://other.example"}, timeout=5)
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize(
    ("path", "status"),
    [("/heartbeat?correlation_id=%1b", 400), ("/heartbeat?q=" + "x" * 9000, 414), ("/nope", 404)],
    ids=["refused-by-the-guards", "too-long", "refused-by-bottle"],
)
def test_configured_origins_can_read_every_refusal(start_endpoint: Start, path: str, status: int) -> None:
    """A browser app shows the ErrorDescription only if the answer carries CORS headers, whoever refused it."""
    _, _, url = start_endpoint("cors_origins", "https://app.example")
    answer = requests.get(f"{url}{path}", headers={"Origin": "https://app.example"}, timeout=5)
    assert answer.status_code == status
    assert answer.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert answer.headers["Access-Control-Expose-Headers"] == "Allow, Retry-After"  # errors.md points clients there


def test_any_origin_is_answered_with_a_star_never_echoed(start_endpoint: Start) -> None:
    _, _, url = start_endpoint("cors_origins", "*")
    answer = requests.get(f"{url}/heartbeat", headers={"Origin": '"><script>'}, timeout=5)
    assert answer.headers["Access-Control-Allow-Origin"] == "*" and "Vary" not in answer.headers


def test_a_preflight_is_answered_before_any_check(start_endpoint: Start) -> None:
    """A refused preflight is a CORS failure to the browser: the page would never see its real request's error."""
    _, _, url = start_endpoint("cors_origins", "https://app.example")
    preflight = requests.options(
        f"{url}/heartbeat?correlation_id=%1b&q=" + "x" * 9000,
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
        timeout=5,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"


def test_browsers_may_send_the_trace_context(start_endpoint: Start) -> None:
    _, _, url = start_endpoint("cors_origins", "https://app.example")
    allowed = [name.strip() for name in preflight_of(url, "GET").headers["Access-Control-Allow-Headers"].split(",")]
    assert {"correlation_id", "traceparent", "tracestate"} <= set(allowed) and len(allowed) == len(set(allowed))
