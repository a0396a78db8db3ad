"""Bodies on requests whose method takes none (GET, HEAD, OPTIONS): read, dropped and served, as the stock
Pip.Services endpoint serves them (pip_services3_rpc's own tests send `null` with `GET /heartbeat`), up to a
small bound; broken framing is a 400 whatever the method."""

import http.client
import socket
from collections.abc import Iterator

import bottle
import pytest
from microservice_chassis.http.endpoint import GranianHttpEndpoint
from microservice_chassis.http.guards import IGNORED_BODY_MAX
from microservice_chassis.testing import address_of, assert_error, free_port, raw_request, serving
from pip_services3_commons.refer import Descriptor
from pip_services3_rpc.services import RestService

from doubles import Start

# The body pip_services3_rpc's tests send with GET /heartbeat, framed both ways a client may frame it.
NULL_BODIES = {
    "length": b"Content-Type: application/json\r\nContent-Length: 4\r\n\r\nnull",
    "chunked": b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnull\r\n0\r\n\r\n",
}


class BodiesService(RestService):
    """One route for GET (and so HEAD), OPTIONS and DELETE, answering the body its handler was given."""

    def __init__(self) -> None:
        super().__init__()
        self._base_route = "bodies"

    def register(self) -> None:
        for method in ("GET", "OPTIONS", "DELETE"):
            self.register_route(method, "/seen", None, lambda: self.send_result(bottle.request.body.read().decode()))


@pytest.fixture(scope="module")
def bodies_url() -> Iterator[str]:
    """Our endpoint serving BodiesService on a free port."""
    service = (Descriptor("test", "bodies", "http", "default", "1.0"), BodiesService())
    with serving(GranianHttpEndpoint, free_port(), service, probe="/bodies/seen") as url:
        yield url


def exchange(sock: socket.socket, data: bytes, method: str = "GET") -> tuple[http.client.HTTPResponse, bytes]:
    """Sends `data` on a connection that stays open; the answer to it and its whole body."""
    sock.sendall(data)
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    return response, response.read()


def chunked(body: bytes) -> bytes:
    """`body` as one chunk and the last chunk."""
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


@pytest.mark.parametrize("framing", NULL_BODIES)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_null_body_is_served_and_the_connection_kept(start_endpoint: Start, method: str, framing: str) -> None:
    """Served 200 as without a body, and the connection serves the next request (the body was read off it)."""
    _, _, url = start_endpoint()
    with socket.create_connection(address_of(url), timeout=5) as sock:
        head = f"{method} /heartbeat HTTP/1.1\r\nHost: x\r\n".encode()
        first, _ = exchange(sock, head + NULL_BODIES[framing], method)
        assert (first.status, first.getheader("Connection")) == (200, None)
        assert exchange(sock, b"GET /heartbeat HTTP/1.1\r\nHost: x\r\n\r\n")[0].status == 200


@pytest.mark.parametrize(("method", "seen"), [("GET", ""), ("OPTIONS", ""), ("DELETE", "null")])
def test_only_a_method_that_takes_a_body_hands_it_to_the_route(bodies_url: str, method: str, seen: str) -> None:
    """GET's and OPTIONS' bodies are read and dropped (RFC 9110 9.3.1: they mean nothing); DELETE's reaches its
    route as before."""
    status, body = raw_request(
        bodies_url, f"{method} /bodies/seen HTTP/1.1\r\nHost: x\r\n".encode() + NULL_BODIES["length"]
    )
    assert (status, body.decode()) == (200, f'"{seen}"')


@pytest.mark.parametrize("framing", ["length", "chunked"])
@pytest.mark.parametrize("request_max_size", [None, 100], ids=["default-limit", "smaller-limit"])
def test_a_dropped_body_is_bounded(start_endpoint: Start, framing: str, request_max_size: int | None) -> None:
    """At most IGNORED_BODY_MAX (or request_max_size, if smaller) is read to be dropped; one byte more is a 413,
    and the connection is closed, as for any body refused."""
    _, _, url = start_endpoint(*(("options.request_max_size", request_max_size) if request_max_size else ()))
    bound = min(IGNORED_BODY_MAX, request_max_size or IGNORED_BODY_MAX)
    for size, expected in [(bound, 200), (bound + 1, 413)]:
        body = b"x" * size
        framed = b"Content-Length: %d\r\n\r\n%s" % (size, body) if framing == "length" else (
            b"Transfer-Encoding: chunked\r\n\r\n" + chunked(body)
        )  # fmt: skip
        with socket.create_connection(address_of(url), timeout=5) as sock:
            response, answer = exchange(sock, b"GET /heartbeat HTTP/1.1\r\nHost: x\r\n" + framed)
        if expected == 413:
            assert_error(response.status, answer, 413)
            assert response.getheader("Connection") == "close"
        else:
            assert response.status == expected, size


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "DELETE"])
def test_malformed_chunked_framing_gets_400_json_whatever_the_method(bodies_url: str, method: str) -> None:
    """A HEAD's answer has no body (RFC 9110 9.3.2): its status and JSON type say the same."""
    with socket.create_connection(address_of(bodies_url), timeout=5) as sock:
        sock.sendall(f"{method} /bodies/seen HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        sock.sendall(b"ZZ\r\nabc\r\n0\r\n\r\n")
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        body = response.read()
    if method == "HEAD":
        assert (response.status, response.getheader("Content-Type")) == (400, "application/json")
    else:
        assert assert_error(response.status, body, 400)["code"] == "MALFORMED_BODY"
