"""What the endpoint logs: access lines, correlation ids that cannot forge a line, a client's bytes escaped."""

import socket

import pytest
import requests
from microservice_chassis.testing import (
    assert_answers_quickly,
    assert_error,
    non_reading_client,
    poll,
    raw_request,
    still_connected,
)
from pip_services3_commons.config import ConfigParams
from pip_services3_components.log import ConsoleLogger

from doubles import Start


def start_logging_endpoint(start_endpoint: Start, level: str) -> str:
    """The endpoint with a console logger at `level` and the access log at info; returns its URL."""
    logger = ConsoleLogger()
    logger.configure(ConfigParams.from_tuples("level", level))
    return start_endpoint("options.access_log_level", "info", logger=logger).url


def logged_answer(start_endpoint: Start, capfd: pytest.CaptureFixture[str], target: str) -> tuple[int, bytes, str]:
    """GET `target` from a real socket on an endpoint logging at trace: the status, body and all that was logged."""
    url = start_logging_endpoint(start_endpoint, "trace")
    capfd.readouterr()
    status, body = raw_request(url, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return status, body, "".join(capfd.readouterr())


def raw_answer(url: str, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return raw_request(url, f"GET {path} HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode())


# --- the access log -------------------------------------------------------------------------------


def test_access_log_has_one_line_per_request(start_endpoint: Start, capfd: pytest.CaptureFixture[str]) -> None:
    logger = ConsoleLogger()
    logger.configure(ConfigParams.from_tuples("level", "info"))
    _, _, url = start_endpoint("options.access_log_level", "info", logger=logger)
    capfd.readouterr()
    requests.get(f"{url}/heartbeat", params={"correlation_id": "c-log"}, timeout=5)
    requests.get(f"{url}/probe/boom", timeout=5)
    out, err = capfd.readouterr()
    (line,) = [line for line in out.splitlines() if "/heartbeat" in line]
    assert line.startswith("[c-log:INFO:") and line.endswith(" ms") and "GET /heartbeat 200 " in line
    assert any(":ERROR:" in line and "GET /probe/boom 500 " in line for line in err.splitlines())


def test_a_cut_off_connection_is_logged_once(
    start_endpoint: Start, stalled_sockets: list[socket.socket], capfd: pytest.CaptureFixture[str]
) -> None:
    logger = ConsoleLogger()
    logger.configure(ConfigParams.from_tuples("level", "info"))
    _, _, url = start_endpoint("options.send_timeout", 500, logger=logger)
    sock = non_reading_client(url, b"GET /probe/big HTTP/1.1\r\nHost: x\r\n\r\n", 2)
    stalled_sockets.append(sock)
    assert poll(lambda: not still_connected(sock), 15)
    assert_answers_quickly(url)  # time for a second line, were there one
    assert "".join(capfd.readouterr()).count("read nothing for 0.5 s") == 1


# --- correlation ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "correlation_id",
    ["x\r\n[hello-world:INFO:2026-01-01T00:00:00Z] Container hello-world stopped", "\x1b[2J", "c" * 10_000],
    ids=["crlf", "escape", "10-kb"],
)
def test_unsafe_correlation_ids_are_refused_and_never_echoed(
    start_endpoint: Start, capfd: pytest.CaptureFixture[str], correlation_id: str
) -> None:
    url = start_logging_endpoint(start_endpoint, "trace")
    capfd.readouterr()
    in_query = requests.get(f"{url}/heartbeat", params={"correlation_id": correlation_id}, timeout=5)
    answers = [(in_query.status_code, in_query.content)]
    if correlation_id.isprintable():  # granian's parser refuses control characters in a header itself (bodiless 400)
        answers.append(raw_answer(url, "/heartbeat", {"correlation_id": correlation_id}))
    else:
        assert raw_answer(url, "/heartbeat", {"correlation_id": correlation_id})[0] == 400
    for status, body in answers:
        description = assert_error(status, body, 400)
        assert description["code"] == "INVALID_CORRELATION_ID"
        assert description["correlation_id"] is None and correlation_id[:50] not in body.decode()
    logged = "".join(capfd.readouterr())
    assert "\x1b" not in logged and "Container hello-world stopped" not in logged and "c" * 300 not in logged


@pytest.mark.parametrize(
    "query",
    [
        "correlation_id=---%3AERROR%3A2026-11-30T16%3A00%3A00Z%5D%20fake%3B%20see%20%5Bx",  # ends the [id:...] prefix
        "correlation_id=a%5Cx1b",  # a backslash: "a\\x1b" would read as an escaped ESC
        "correlation_id=a%E2%80%AEb",  # U+202E turns the rest of the line around
        "correlation_id=%85abc",  # not UTF-8: it would be logged as U+FFFD, and other ids alike
        "correlation_id=a%20b",
        "correlation_id=x%E2%80%A8y",  # U+2028 and U+2029 end a line for Python's splitlines and JavaScript
        "correlation_id=x%E2%80%A9y",
    ],
    ids=["log-prefix", "backslash", "bidi-override", "not-utf-8", "space", "U+2028", "U+2029"],
)
def test_only_visible_ascii_correlation_ids_outside_the_log_prefix_syntax_are_taken(
    start_endpoint: Start, capfd: pytest.CaptureFixture[str], query: str
) -> None:
    status, body, logged = logged_answer(start_endpoint, capfd, f"/heartbeat?{query}")
    assert assert_error(status, body, 400)["code"] == "INVALID_CORRELATION_ID"
    assert "fake" not in logged


def test_an_empty_correlation_id_header_means_none(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    status, body = raw_request(url, b"GET /nope HTTP/1.1\r\nHost: x\r\ncorrelation_id:\r\n\r\n")
    assert assert_error(status, body, 404)["correlation_id"] is None


# --- what a client sent, escaped ------------------------------------------------------------------


def test_control_characters_in_the_path_are_escaped_in_the_access_log(
    start_endpoint: Start, capfd: pytest.CaptureFixture[str]
) -> None:
    url = start_logging_endpoint(start_endpoint, "info")
    capfd.readouterr()
    status, _ = raw_request(url, b"GET /x%0d%0a[forged]%1b[2J HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 404
    out = capfd.readouterr().out
    (line,) = [line for line in out.splitlines() if "404" in line]
    assert "\x1b" not in out and "\r" not in out
    assert "/x\\x0d\\x0a[forged]\\x1b[2J 404" in line


@pytest.mark.parametrize("separator", ["%E2%80%A8", "%E2%80%A9"], ids=["U+2028", "U+2029"])
def test_unicode_line_separators_in_the_path_are_escaped_in_the_log(
    start_endpoint: Start, capfd: pytest.CaptureFixture[str], separator: str
) -> None:
    status, _, logged = logged_answer(start_endpoint, capfd, f"/a{separator}FAKE")
    assert status == 404
    assert "\u2028" not in logged and "\u2029" not in logged and "FAKE" in logged


def test_logged_escapes_are_unambiguous(start_endpoint: Start, capfd: pytest.CaptureFixture[str]) -> None:
    """A backslash the client sent is doubled, so "\\x0a" in the log is never a newline and a backslash alike;
    U+2028 is written \\u2028, not \\x2028 (which reads as \\x20 and "28")."""
    url = start_logging_endpoint(start_endpoint, "info")
    capfd.readouterr()
    for path in (b"/a%0a", b"/a%5cx0a", b"/b%e2%80%a8", b"/c%e2%80%ae", b"/d%e2%80%8b", b"/e%f3%a0%81%81", b"/f%c2%ad"):
        raw_request(url, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    out = capfd.readouterr().out
    assert "GET /a\\x0a 404" in out and "GET /a\\\\x0a 404" in out and "GET /b\\u2028 404" in out
    assert "GET /c\\u202e 404" in out and "GET /d\\u200b 404" in out  # bidi override, zero width: invisible
    assert "GET /e\\U000e0041 404" in out and "GET /f\\xad 404" in out  # a tag character, a soft hyphen
