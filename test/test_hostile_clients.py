"""Clients that try to stall, starve, confuse or forge the logs of the endpoint: real sockets, real timing margins."""

import contextlib
import errno
import http.client
import json
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import bottle
import pytest
import requests
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import ConfigException, ConnectionException
from pip_services3_components.log import ConsoleLogger

from HelloWorldHttpEndpoint import HelloWorldHttpEndpoint
from http_endpoint.rsgi_bridge import call_wsgi
from support import BIG_ANSWER, RunningProcess, Start, assert_error, free_port, raw_request

STALLED_BODIES = [
    b"GET /heartbeat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
    b"GET /heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc",
    b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n10\r\n{",
    b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
]


def address_of(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def start_logging_endpoint(start_endpoint: Start, level: str) -> str:
    """The endpoint with a console logger at `level` and the access log at info; returns its URL."""
    logger = ConsoleLogger()
    logger.configure(ConfigParams.from_tuples("level", level))
    return start_endpoint("options.access_log_level", "info", logger=logger).url


def logged_answer(start_endpoint: Start, capfd: pytest.CaptureFixture, target: str) -> tuple[int, bytes, str]:
    """GET `target` from a real socket on an endpoint logging at trace: the status, body and all that was logged."""
    url = start_logging_endpoint(start_endpoint, "trace")
    capfd.readouterr()
    status, body = raw_request(url, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return status, body, "".join(capfd.readouterr())


def assert_answers_quickly(url: str, times: int = 5) -> None:
    """/heartbeat answers every time within a second (wide margin: "working", not a speed claim)."""
    for _ in range(times):
        started = time.monotonic()
        assert requests.get(f"{url}/heartbeat", timeout=5).status_code == 200
        assert time.monotonic() - started < 1.0


@pytest.fixture
def stalled_sockets() -> Iterator[list[socket.socket]]:
    sockets: list[socket.socket] = []
    yield sockets
    for sock in sockets:
        sock.close()


# --- stalled bodies -------------------------------------------------------------------------------


def test_twenty_clients_stalling_bodies_do_not_stall_other_requests(
    start_endpoint: Start, stalled_sockets: list[socket.socket]
) -> None:
    _, _, url = start_endpoint()
    for index in range(20):
        sock = socket.create_connection(address_of(url))
        sock.sendall(STALLED_BODIES[index % len(STALLED_BODIES)])
        stalled_sockets.append(sock)
    assert_answers_quickly(url)


@pytest.mark.parametrize(
    ("request_bytes", "expected"),
    [
        (STALLED_BODIES[0], 413),
        (STALLED_BODIES[1], 413),
        (b"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n", 404),
        (b"PUT /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n", 405),
        (b"GET /heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n", 413),
    ],
    ids=["get-chunked", "get-length", "unknown-route", "wrong-method", "get-expecting-continue"],
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


@pytest.mark.parametrize("request_bytes", STALLED_BODIES[2:], ids=["post-chunked", "post-length"])
def test_a_body_not_sent_within_the_deadline_gets_408(start_endpoint: Start, request_bytes: bytes) -> None:
    _, _, url = start_endpoint("options.body_read_timeout", 300)
    started = time.monotonic()
    status, body = raw_request(url, request_bytes)
    assert_error(status, body, 408)
    assert time.monotonic() - started < 5


def test_a_trickled_body_is_cut_off_at_the_deadline(start_endpoint: Start) -> None:
    _, _, url = start_endpoint("options.body_read_timeout", 500)
    with socket.create_connection(address_of(url), timeout=10) as sock:
        sock.sendall(b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        started = time.monotonic()
        answer = b""
        while not answer and time.monotonic() - started < 8:
            sock.sendall(b" ")  # one byte at a time, never finishing
            sock.settimeout(0.1)
            with contextlib.suppress(TimeoutError):
                answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408 ")


# --- many idle connections ------------------------------------------------------------------------


def test_thousands_of_idle_connections_leave_it_answering(tmp_path: Path) -> None:
    """10,000 idle connections from another process (the service's side needs as many descriptors)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    count = min(10_000, hard - 200)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE_HEARTBEAT, str(port)], cwd=Path(__file__).parent.parent, stdout=subprocess.PIPE
    )
    idle: list[socket.socket] = []
    try:
        assert server.stdout.readline().strip() == b"ready"
        url = f"http://127.0.0.1:{port}"
        for _ in range(count):
            idle.append(socket.create_connection(("127.0.0.1", port)))
        assert_answers_quickly(url)
    finally:
        for sock in idle:
            sock.close()
        server.kill()
        server.wait()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


SERVE_HEARTBEAT = """
import sys, threading
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.refer import Descriptor, References
from pip_services3_rpc.services import HeartbeatRestService
from HelloWorldHttpEndpoint import HelloWorldHttpEndpoint
endpoint, heartbeat = HelloWorldHttpEndpoint(), HeartbeatRestService()
endpoint.configure(ConfigParams.from_tuples("connection.host", "127.0.0.1", "connection.port", sys.argv[1]))
references = References.from_tuples(
    Descriptor("hello-world", "endpoint", "http", "default", "1.0"), endpoint,
    Descriptor("pip-services", "heartbeat-service", "http", "default", "1.0"), heartbeat,
)
heartbeat.set_references(references)
endpoint.set_references(references)
endpoint.open(None)
heartbeat.open(None)
print("ready", flush=True)
threading.Event().wait()
"""


# --- framing --------------------------------------------------------------------------------------


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


@pytest.mark.parametrize(
    "request_bytes",
    [b"GET /heartbeat HTTP/1.1\r\n\r\n", b"GET /heartbeat HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"],
    ids=["no-host", "two-hosts"],
)
def test_http_1_1_needs_exactly_one_host(start_endpoint: Start, request_bytes: bytes) -> None:
    _, _, url = start_endpoint()
    status, body = raw_request(url, request_bytes)
    assert assert_error(status, body, 400)["code"] == "INVALID_HOST"


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


def test_http_1_0_without_host_is_served(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    status, _ = raw_request(url, b"GET /heartbeat HTTP/1.0\r\n\r\n")
    assert status == 200


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


# --- logs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "correlation_id",
    ["x\r\n[hello-world:INFO:2026-01-01T00:00:00Z] Container hello-world stopped", "\x1b[2J", "c" * 10_000],
    ids=["crlf", "escape", "10-kb"],
)
def test_unsafe_correlation_ids_are_refused_and_never_echoed(
    start_endpoint: Start, capfd: pytest.CaptureFixture, correlation_id: str
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
    ("method", "path", "body"),
    [("GET", "/hello_world/greeting?name=%FF&", b""), ("POST", "/v1/hello_world/greeting?", b'{"name": 5}')],
    ids=["rest", "commandable"],
)
@pytest.mark.parametrize("key", ["correlation%5Fid", "%63orrelation_id"])
def test_a_correlation_id_under_an_escaped_key_is_checked_too(
    start_process: Callable[..., tuple[RunningProcess, str]], method: str, path: str, body: bytes, key: str
) -> None:
    """bottle, and so every service, unescapes query keys: `correlation%5Fid` is the correlation id."""
    process, url = start_process()
    target = f"{path}{key}=x%0d%0a[hello-world:INFO:2026-01-01T00:00:00Z]%20forged%1b[2J"
    head = f"{method} {target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    status, answer = raw_request(url, f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
    assert assert_error(status, answer, 400)["code"] == "INVALID_CORRELATION_ID"
    assert process.stop() == 0
    assert "forged" not in process.output and "\x1b" not in process.output


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
    start_endpoint: Start, capfd: pytest.CaptureFixture, query: str
) -> None:
    status, body, logged = logged_answer(start_endpoint, capfd, f"/heartbeat?{query}")
    assert assert_error(status, body, 400)["code"] == "INVALID_CORRELATION_ID"
    assert "fake" not in logged


def test_an_empty_correlation_id_header_means_none(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    status, body = raw_request(url, b"GET /nope HTTP/1.1\r\nHost: x\r\ncorrelation_id:\r\n\r\n")
    assert assert_error(status, body, 404)["correlation_id"] is None


def raw_answer(url: str, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return raw_request(url, f"GET {path} HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode())


def test_control_characters_in_the_path_are_escaped_in_the_access_log(
    start_endpoint: Start, capfd: pytest.CaptureFixture
) -> None:
    url = start_logging_endpoint(start_endpoint, "info")
    capfd.readouterr()
    status, _ = raw_request(url, b"GET /x%0d%0a[forged]%1b[2J HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 404
    out = capfd.readouterr().out
    (line,) = [line for line in out.splitlines() if "404" in line]
    assert "\x1b" not in out and "\r" not in out
    assert "/x\\x0d\\x0a[forged]\\x1b[2J 404" in line


# --- TLS ------------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
@pytest.mark.parametrize("fault", ["garbage-certificate", "garbage-key", "mismatched-key"])
def test_a_bad_certificate_or_key_fails_open_in_one_line(tmp_path: Path, fault: str) -> None:
    cert, key, other_key = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "other.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=x",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(["openssl", "genrsa", "-out", str(other_key), "2048"], check=True, capture_output=True)
    if fault == "garbage-certificate":
        cert.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    elif fault == "garbage-key":
        key.write_bytes(b"\x00garbage")
    else:
        key = other_key
    endpoint = HelloWorldHttpEndpoint()
    port = free_port()
    endpoint.configure(
        ConfigParams.from_tuples("connection.protocol", "https", "connection.host", "127.0.0.1", "connection.port",
                                 port, "credential.ssl_crt_file", str(cert), "credential.ssl_key_file", str(key))
    )  # fmt: skip
    with pytest.raises(ConfigException) as raised:
        endpoint.open(None)
    assert raised.value.code == "INVALID_SSL_FILES" and "\n" not in raised.value.message
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # the port was never taken


# --- compatibility --------------------------------------------------------------------------------


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


def test_two_instances_cannot_share_a_port(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    second = HelloWorldHttpEndpoint()
    second.configure(ConfigParams.from_tuples("connection.host", "127.0.0.1", "connection.port", address_of(url)[1]))
    with pytest.raises(Exception, match=r"Cannot listen on 127\.0\.0\.1"):
        second.open(None)


# --- found by an outside tester -------------------------------------------------------------------


@pytest.mark.parametrize("separator", ["%E2%80%A8", "%E2%80%A9"], ids=["U+2028", "U+2029"])
def test_unicode_line_separators_in_the_path_are_escaped_in_the_log(
    start_endpoint: Start, capfd: pytest.CaptureFixture, separator: str
) -> None:
    status, _, logged = logged_answer(start_endpoint, capfd, f"/a{separator}FAKE")
    assert status == 404
    assert "\u2028" not in logged and "\u2029" not in logged and "FAKE" in logged


def test_a_raw_utf_8_query_is_read_as_utf_8(start_endpoint: Start) -> None:
    endpoint, _, url = start_endpoint()
    endpoint.register_route("GET", "/echo-query", None, lambda: bottle.request.query.getunicode("q"))
    status, body = raw_request(url, "GET /echo-query?q=é HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert (status, body.decode()) == (200, "é")


def test_a_host_name_is_resolved_before_listening() -> None:
    endpoint, port = HelloWorldHttpEndpoint(), free_port()
    endpoint.configure(ConfigParams.from_tuples("connection.host", "localhost", "connection.port", port))
    endpoint.open(None)
    try:
        assert requests.get(f"http://127.0.0.1:{port}/nowhere", timeout=5).status_code == 404
    finally:
        endpoint.close(None)


def test_an_unencodable_host_name_fails_open_in_one_line() -> None:
    endpoint = HelloWorldHttpEndpoint()
    endpoint.configure(ConfigParams.from_tuples("connection.host", "a" * 300, "connection.port", free_port()))
    with pytest.raises(ConnectionException, match=r"Cannot listen on a+:"):
        endpoint.open(None)


def test_a_json_body_over_bottles_100_kib_is_read_up_to_the_endpoint_limit(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    body = b'{"a": 2, "b": 3' + b" " * 200_000 + b"}"
    response = requests.post(f"{url}/adder/add", data=body, headers={"Content-Type": "application/json"}, timeout=5)
    assert (response.status_code, response.json()) == (200, 5)


def test_a_lower_case_method_is_not_served_as_get(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    status, body = raw_request(url, b"get /heartbeat HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_error(status, body, 405)


def test_a_transfer_coding_other_than_chunked_gets_400(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    head = b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    status, body = raw_request(url, head + b"Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    assert assert_error(status, body, 400)["code"] == "UNSUPPORTED_TRANSFER_CODING"


def test_logged_escapes_are_unambiguous(start_endpoint: Start, capfd: pytest.CaptureFixture) -> None:
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


# --- clients that never read their answers ----------------------------------------------------------


TCP_ESTABLISHED = 1


def non_reading_client(url: str, request: bytes, times: int) -> socket.socket:
    """A connection that pipelines `request` `times` times and never reads (its receive buffer kept small)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(address_of(url))
    sock.sendall(request * times)
    return sock


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def poll(condition: Callable[[], bool], timeout: float) -> bool:
    """Whether `condition` holds within `timeout` s, checked every 50 ms."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)  # poll interval, not a wait for the condition
    return True


def heartbeat_answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/heartbeat", timeout=0.5).status_code == 200
    except requests.RequestException:
        return False


def test_clients_that_never_read_lose_their_slots_at_the_send_deadline(
    start_endpoint: Start, stalled_sockets: list[socket.socket]
) -> None:
    """At the slot limit, clients pipelining thousands of small requests and reading nothing are cut off once
    they have accepted nothing for send_timeout: a fresh /heartbeat is answered again."""
    _, _, url = start_endpoint("options.send_timeout", 1000, "options.max_connections", 10)
    request = b"GET /heartbeat HTTP/1.1\r\nHost: x\r\n\r\n"
    for _ in range(10):
        stalled_sockets.append(non_reading_client(url, request, 5000))
    assert poll(lambda: heartbeat_answers(url), 15)
    assert_answers_quickly(url)


def still_connected(sock: socket.socket) -> bool:
    """The client's kernel still sees the connection established (TCP_INFO's first byte is the TCP state)."""
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] == TCP_ESTABLISHED


@pytest.mark.parametrize("path", ["/probe/big", "/heartbeat"], ids=["large", "small"])
def test_a_client_that_never_reads_is_cut_off_at_the_send_deadline(
    start_endpoint: Start, stalled_sockets: list[socket.socket], path: str
) -> None:
    """Whether it asked for a large answer (streamed) or for thousands of small ones (answered whole)."""
    _, _, url = start_endpoint("options.send_timeout", 1000)
    sock = non_reading_client(url, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 5000)
    stalled_sockets.append(sock)
    assert poll(lambda: not still_connected(sock), 15)


def test_a_large_answer_still_arrives_whole(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    response = requests.get(f"{url}/probe/big", timeout=10)
    assert response.status_code == 200 and response.content == BIG_ANSWER


@pytest.fixture
def many_descriptors() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize(
    ("path", "clients", "times"),
    [("/swagger/swagger-ui-bundle.js", 1000, 4), ("/swagger/swagger-ui-bundle.js.map", 3000, 2)],
    ids=["bundle", "source-map"],
)
def test_clients_that_never_read_files_hold_bounded_memory(
    start_process: Callable, many_descriptors: None, path: str, clients: int, times: int
) -> None:
    """Wide margins, which the code before the paced sender failed (348-875 MB, 145-500 MB kept): under 300 MB
    while they stall, and back within 100 MB of the pre-load RSS within 10 s of their leaving; the service
    answers meanwhile. The goal (200 MB, 30 MB) and the figures measured per Python are in docs/http-endpoint.md."""
    process, url = start_process(LOG_LEVEL="warn")
    pid = process.popen.pid
    assert requests.get(f"{url}{path}", timeout=10).status_code == 200
    before = rss_mb(pid)
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    sockets = [non_reading_client(url, request, times) for _ in range(clients)]
    try:
        peak = 0.0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            peak = max(peak, rss_mb(pid))
            time.sleep(0.1)  # sampling interval
        assert_answers_quickly(url)
        assert peak < 300, f"{peak:.0f} MB with {clients} clients not reading"
    finally:
        for sock in sockets:
            sock.close()
    assert poll(lambda: rss_mb(pid) < before + 100, 10), f"{rss_mb(pid):.0f} MB after they left, {before:.0f} before"


def test_the_service_answers_within_a_second_while_a_burst_of_clients_stalls_on_files(
    start_process: Callable, many_descriptors: None
) -> None:
    """3,000 clients arriving at once, each asking twice for the 4.7 MB source map and reading nothing: /heartbeat
    keeps answering, from the burst on (the descriptor scans that find each connection once held the
    event loop for 2 s here)."""
    _, url = start_process(LOG_LEVEL="warn")
    request = b"GET /swagger/swagger-ui-bundle.js.map HTTP/1.1\r\nHost: x\r\n\r\n"
    latencies: list[float] = []
    done = threading.Event()

    def probe() -> None:
        while not done.is_set():
            started = time.monotonic()
            requests.get(f"{url}/heartbeat", timeout=10)
            latencies.append(time.monotonic() - started)
            done.wait(0.05)

    prober = threading.Thread(target=probe)
    prober.start()
    sockets: list[socket.socket] = []
    try:
        sockets.extend(non_reading_client(url, request, 2) for _ in range(3000))
        done.wait(5)  # the burst's first seconds, which is when the loop was held
    finally:
        done.set()
        prober.join()
        for sock in sockets:
            sock.close()
    # Wide margins: the code that held the loop answered 9-13 probes in those 5 s, the slowest 1.4-1.8 s; it now
    # answers 49-89, one of them now and then just over 1 s while the machine is busy.
    assert len(latencies) >= 30 and max(latencies) < 2.0, f"{len(latencies)} probes, the slowest {max(latencies):.2f} s"


def first_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes] | None:
    """The status, headers and (for an error) body of the first answer on `sock`; None if none came in 2 s."""
    sock.settimeout(2)
    try:
        response = http.client.HTTPResponse(sock)
        response.begin()
    except (TimeoutError, OSError, http.client.HTTPException):
        return None
    body = response.read() if response.status >= 400 else b""
    return response.status, {name.lower(): value for name, value in response.getheaders()}, body


def test_at_the_open_files_limit_files_get_503_and_recover(
    start_process: Callable, stalled_sockets: list[socket.socket]
) -> None:
    """Each stalled file answer holds a descriptor: past the limit, a file request is a 503 ErrorDescription with
    Retry-After, logged once without a traceback, and files are served again once the clients have gone."""
    process, url = start_process(LOG_LEVEL="info")
    pid = process.popen.pid
    limit = len(list(Path(f"/proc/{pid}/fd").iterdir())) + 60
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, limit))
    request = b"GET /swagger/swagger-ui-bundle.js HTTP/1.1\r\nHost: x\r\n\r\n"
    for _ in range(100):
        stalled_sockets.append(non_reading_client(url, request, 1))
    answers = [answer for sock in stalled_sockets if (answer := first_answer(sock)) is not None]
    statuses = [status for status, _, _ in answers]
    assert 503 in statuses and set(statuses) <= {200, 503}, statuses
    _, headers, body = next(answer for answer in answers if answer[0] == 503)
    assert_error(503, body, 503)
    assert headers["retry-after"] and headers["content-type"] == "application/json"
    for sock in stalled_sockets:
        sock.close()
    assert poll(lambda: requests.get(f"{url}/swagger/swagger-ui-bundle.js", timeout=5).status_code == 200, 10)
    assert "Traceback" not in process.output
    assert process.output.count("Refusing requests 503") == 1


def test_out_of_descriptors_after_the_handler_is_a_503_too(start_endpoint: Start, capfd: pytest.CaptureFixture) -> None:
    """At the open-files limit, code after the handler can fail too (an answer read as it is sent; on Python 3.15
    the formatting of a handler's traceback, which imports a module): still the 503, not a 500 with a traceback."""
    logger = ConsoleLogger()
    logger.configure(ConfigParams.from_tuples("level", "info"))
    endpoint, _, url = start_endpoint(logger=logger)

    def answer() -> Iterator[bytes]:
        yield b"part"
        raise OSError(errno.EMFILE, "Too many open files")

    endpoint.register_route("GET", "/exhausted", None, answer)
    response = requests.get(f"{url}/exhausted", timeout=5)
    assert_error(response.status_code, response.content, 503)
    assert response.headers["Retry-After"]
    logged = "".join(capfd.readouterr())
    assert "Refusing requests 503 while short of resources: Too many open files" in logged
    assert "Traceback" not in logged and "ERROR" not in logged


def test_a_failure_the_app_reports_with_exc_info_reaches_the_endpoint_as_itself() -> None:
    """bottle reports a failure of its own error handling (Python 3.15 at the open-files limit: formatting the
    traceback imports a module) as an HTML 500 with exc_info: the bridge raises it, so the pipeline can tell a
    descriptor shortage (503) from a fault."""
    failure = OSError(errno.EMFILE, "Too many open files")

    def app(environ: dict, start_response: Callable) -> list[bytes]:
        start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "text/html")], (OSError, failure, None))
        return [b"<h1>Critical error</h1>"]

    with pytest.raises(OSError) as raised:
        call_wsgi(app, {})
    assert raised.value is failure


def test_beyond_the_answer_memory_bound_large_answers_get_503_and_recover(
    start_endpoint: Start, stalled_sockets: list[socket.socket]
) -> None:
    """Room for one window of unread answer in all: while a client that stopped reading holds it, another large
    answer is a 503 with Retry-After; small answers still go, and large ones again once the non-reader has gone."""
    endpoint, _, url = start_endpoint("options.max_unread_total", 100_000)
    huge = b"x" * 16_000_000  # more than the kernel's socket buffers take: the answer stays held in the process
    endpoint.register_route("GET", "/huge", None, lambda: huge)
    stalled = non_reading_client(url, b"GET /huge HTTP/1.1\r\nHost: x\r\n\r\n", 1)
    stalled_sockets.append(stalled)
    # Its answer has begun (so holds its window) once its status line arrives; then it reads nothing more.
    stalled.settimeout(5)
    assert stalled.recv(12) == b"HTTP/1.1 200"
    response = requests.get(f"{url}/probe/big", timeout=5)
    assert_error(response.status_code, response.content, 503)
    assert response.headers["Retry-After"]
    assert_answers_quickly(url)
    stalled.close()
    assert poll(lambda: requests.get(f"{url}/probe/big", timeout=5).status_code == 200, 10)


@pytest.mark.parametrize("target", ["/nope", "/hello_world/greeting?name=%01"], ids=["404", "400"])
def test_a_head_error_answer_has_the_length_of_the_get_one(start_process: Callable, target: str) -> None:
    """RFC 9110: HEAD's Content-Length is what GET's would be (the outside tester found 175 against 184)."""
    _, url = start_process()
    lengths = {}
    for method in ("GET", "HEAD"):
        connection = http.client.HTTPConnection(*address_of(url), timeout=5)
        connection.request(method, target)
        response = connection.getresponse()
        response.read()
        lengths[method] = (response.status, response.getheader("Content-Length"))
        connection.close()
    assert lengths["HEAD"] == lengths["GET"] and lengths["GET"][1] is not None


def test_a_cut_off_connection_is_logged_once(
    start_endpoint: Start, stalled_sockets: list[socket.socket], capfd: pytest.CaptureFixture
) -> None:
    logger = ConsoleLogger()
    logger.configure(ConfigParams.from_tuples("level", "info"))
    _, _, url = start_endpoint("options.send_timeout", 500, logger=logger)
    sock = non_reading_client(url, b"GET /probe/big HTTP/1.1\r\nHost: x\r\n\r\n", 2)
    stalled_sockets.append(sock)
    assert poll(lambda: not still_connected(sock), 15)
    assert_answers_quickly(url)  # time for a second line, were there one
    assert "".join(capfd.readouterr()).count("read nothing for 0.5 s") == 1
