"""Request framing and size limits: URI, headers, body, chunked, Content-Length, Host, methods, unwanted bodies."""

import http.client
import json
import socket
import time

import pytest
import requests
from microservice_chassis.testing import address_of, assert_error, raw_request, rss_mb

from doubles import Start

JSON = "application/json"


# --- limits ---------------------------------------------------------------------------------------


def test_uri_over_8_kib_gets_414(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    response = requests.get(f"{url}/heartbeat", params={"q": "x" * 9000}, timeout=5)
    assert_error(response.status_code, response.content, 414)


def test_uri_limit_counts_the_bytes_sent_exactly(start_endpoint: Start) -> None:
    _, _, url = start_endpoint("options.max_uri_size", 100)
    at_limit = "/heartbeat?q=" + "x" * (100 - len("/heartbeat?q="))
    assert requests.get(f"{url}{at_limit}", timeout=5).status_code == 200
    status, body = raw_request(url, f"GET {at_limit}x HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert_error(status, body, 414)
    escaped = "/" + "%20" * 33 + "ab"  # 102 bytes sent, 36 characters decoded
    status, body = raw_request(url, f"GET {escaped} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert_error(status, body, 414)


def test_a_9001_byte_escaped_path_gets_414(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    status, body = raw_request(url, b"GET /" + b"%C3%A9" * 1500 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_error(status, body, 414)


def test_headers_over_16_kib_get_431(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    response = requests.get(f"{url}/heartbeat", headers={"X-Big": "x" * 17000}, timeout=5)
    assert_error(response.status_code, response.content, 431)


def test_body_over_the_maximum_gets_413_before_it_is_sent(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    # Announces 100 MB and sends none of it: the answer comes without the body ever being read.
    status, body = raw_request(url, b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n")
    assert_error(status, body, 413)


def test_chunked_body_over_the_maximum_gets_413(start_endpoint: Start) -> None:
    _, _, url = start_endpoint("options.request_max_size", 1000)
    chunk = b"x" * 600
    data = b"%x\r\n%s\r\n" % (len(chunk), chunk) * 3 + b"0\r\n\r\n"
    status, body = raw_request(
        url, b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + data
    )
    assert_error(status, body, 413)


def test_memory_stays_flat_on_a_50_mb_request_line(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    before = rss_mb()
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=5) as sock:
        sock.sendall(b"GET /heartbeat?q=")
        chunk, sent = b"a" * 65536, 0
        try:
            while sent < 50 * 2**20:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the server hung up on the oversized line, as it should
    assert sent < 50 * 2**20, "the server read the whole 50 MB line"
    assert rss_mb() - before < 20


# --- framing --------------------------------------------------------------------------------------


def test_valid_chunked_json_body_is_accepted(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    payload = b'{"n": 5}'
    data = b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload)
    head = (
        b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    status, body = raw_request(url, head + data)
    assert (status, json.loads(body)) == (200, {"n": 5})


def test_malformed_chunked_body_gets_400(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    head = (
        b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    status, _ = raw_request(url, head + b"zz\r\nabc\r\n0\r\n\r\n")
    assert status == 400


@pytest.mark.parametrize(
    "head",
    [
        b"POST /adder/add HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    ],
    ids=["commandable", "post"],
)
def test_malformed_chunked_framing_gets_400_json_on_every_route(start_endpoint: Start, head: bytes) -> None:
    _, _, url = start_endpoint()
    status, body = raw_request(url, head + b"ZZ\r\nabc\r\n0\r\n\r\n")
    assert assert_error(status, body, 400)["code"] == "MALFORMED_BODY"


def test_a_transfer_coding_other_than_chunked_gets_400(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    head = b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    status, body = raw_request(url, head + b"Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    assert assert_error(status, body, 400)["code"] == "UNSUPPORTED_TRANSFER_CODING"


def test_bad_content_length_gets_400(start_endpoint: Start) -> None:
    """Answered by granian's HTTP parser itself, before any Python runs: status 400 with an empty body."""
    _, _, url = start_endpoint()
    status, body = raw_request(url, b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
    assert (status, body) == (400, b"")


@pytest.mark.parametrize(
    ("request_bytes", "expected"),
    [
        (b"GET /heartbeat HTTP/1.1\r\nHost: x\r\nContent_Length: abc\r\n\r\n", None),
        (b"GET /heartbeat HTTP/1.1\r\nHost: x\r\nContent_Length: 5\r\n\r\n", None),
        (b"GET /heartbeat HTTP/1.1\r\nHost: x\r\nTransfer_Encoding: gzip\r\n\r\n", None),
        (b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 8\r\n"
         b"Content_Length: 8\r\n\r\n{\"n\": 1}", b"{\"n\": 1}"),
    ],
    ids=["non-numeric", "no-body", "transfer-coding", "beside-the-real-one"],
)  # fmt: skip
def test_framing_headers_spelled_with_underscores_are_ignored(
    start_endpoint: Start, request_bytes: bytes, expected: bytes | None
) -> None:
    """granian frames the body by Content-Length and Transfer-Encoding only; `Content_Length` names the same WSGI
    key (HTTP_CONTENT_LENGTH) but framed nothing, so it must not be taken for them."""
    _, _, url = start_endpoint()
    status, body = raw_request(url, request_bytes)
    assert status == 200 and body == (expected or body)


@pytest.mark.parametrize(
    "request_bytes",
    [b"GET /heartbeat HTTP/1.1\r\n\r\n", b"GET /heartbeat HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"],
    ids=["no-host", "two-hosts"],
)
def test_http_1_1_needs_exactly_one_host(start_endpoint: Start, request_bytes: bytes) -> None:
    _, _, url = start_endpoint()
    status, body = raw_request(url, request_bytes)
    assert assert_error(status, body, 400)["code"] == "INVALID_HOST"


def test_http_1_0_without_host_is_served(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    status, _ = raw_request(url, b"GET /heartbeat HTTP/1.0\r\n\r\n")
    assert status == 200


def test_a_lower_case_method_is_not_served_as_get(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    status, body = raw_request(url, b"get /heartbeat HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_error(status, body, 405)


# --- bodies that no route wants -------------------------------------------------------------------


def test_routes_without_a_body_ignore_a_small_one_as_the_stock_endpoint_does(start_endpoint: Start) -> None:
    """pip_services3_rpc's own tests send `null` with GET /heartbeat: read (bounded, test_endpoint_get_bodies.py) and
    ignored, never parsed."""
    _, _, url = start_endpoint()
    response = requests.get(f"{url}/heartbeat", data=b"{not json", headers={"Content-Type": JSON}, timeout=5)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("request_bytes", "expected"),
    [
        (b"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n", 404),
        (b"PUT /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n", 405),
        (b"GET /heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n", 413),
    ],
    ids=["unknown-route", "wrong-method", "get-expecting-continue"],
)
def test_a_body_no_route_wants_is_refused_unread(start_endpoint: Start, request_bytes: bytes, expected: int) -> None:
    """Refused at once, before any of it is read (no 100 Continue, no waiting for the body deadline), and the
    connection closed: a body held in memory is what a route can use, none for a GET or a route that is not."""
    _, _, url = start_endpoint()
    with socket.create_connection(address_of(url), timeout=5) as sock:
        sock.sendall(request_bytes)
        started = time.monotonic()
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert time.monotonic() - started < 1.0
        assert_error(response.status, response.read(), expected)
        assert response.getheader("Connection") == "close"
