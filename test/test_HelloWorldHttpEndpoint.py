"""The production endpoint as a component: real sockets on free ports, hostile clients, drop-in services."""

from library_fixes.error_bodies import MAX_ERROR_TEXT
from library_fixes.loggers import UtcConsoleLogger

import json
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import BadRequestException, ConfigException, ConnectionException
from pip_services3_components.log import ConsoleLogger
from pip_services3_rpc.services import RestService

from HelloWorldHttpEndpoint import HelloWorldHttpEndpoint
from support import Start, assert_error, free_port, raw_request

# --- 1. fail fast ---------------------------------------------------------------------------------


def test_open_serves_every_route_at_once(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    assert requests.get(f"{url}/heartbeat", timeout=5).status_code == 200  # no poll: open waits for nothing


def test_port_in_use_fails_open_naming_host_and_port(start_endpoint: Start) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConnectionException, match=f"127.0.0.1:{port}.*(in use|Address)"):
            start_endpoint(port=port)


@pytest.mark.parametrize("port", ["abc", "70000", "-1"])
def test_invalid_port_fails_open(port: str) -> None:
    endpoint = HelloWorldHttpEndpoint()
    endpoint.configure(ConfigParams.from_tuples("connection.host", "127.0.0.1", "connection.port", port))
    with pytest.raises(ConfigException, match="port"):
        endpoint.open(None)


def test_unresolvable_host_fails_open() -> None:
    endpoint = HelloWorldHttpEndpoint()
    endpoint.configure(ConfigParams.from_tuples("connection.host", "no-such-host.invalid", "connection.port", 8080))
    with pytest.raises(ConnectionException, match=r"no-such-host\.invalid:8080"):
        endpoint.open(None)


# --- 2. close cleanly -----------------------------------------------------------------------------


def test_close_lets_in_flight_requests_finish_and_refuses_new_ones(start_endpoint: Start) -> None:
    endpoint, probe, url = start_endpoint("options.threads", 4)
    results: list[int] = []
    clients = [
        threading.Thread(target=lambda: results.append(requests.get(f"{url}/probe/slow", timeout=10).status_code))
        for _ in range(3)
    ]
    for client in clients:
        client.start()
    for _ in clients:
        assert probe.entered.acquire(timeout=5)
    closing = threading.Thread(target=endpoint.close, args=(None,))
    closing.start()
    with pytest.raises(requests.ConnectionError):
        wait_for_refusal(url)
        requests.get(f"{url}/heartbeat", timeout=2)
    assert closing.is_alive()  # still draining: the slow requests have not finished
    probe.release.set()
    for client in clients:
        client.join(10)
    closing.join(10)
    assert results == [200, 200, 200]
    assert not closing.is_alive()


def wait_for_refusal(url: str, timeout: float = 5) -> None:
    """Polls until a new connection is refused (close has begun)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/heartbeat", timeout=0.5)
        except requests.ConnectionError:
            return
        time.sleep(0.01)  # poll interval


def test_drain_timeout_bounds_close(start_endpoint: Start) -> None:
    endpoint, probe, url = start_endpoint("options.drain_timeout", 300)
    threading.Thread(target=lambda: requests.get(f"{url}/probe/slow", timeout=10), daemon=True).start()
    assert probe.entered.acquire(timeout=5)
    started = time.monotonic()
    endpoint.close(None)
    assert time.monotonic() - started < 2


def test_port_is_released_on_close(start_endpoint: Start) -> None:
    endpoint, _, url = start_endpoint()
    port = int(url.rsplit(":", 1)[1])
    endpoint.close(None)
    _, _, url_again = start_endpoint(port=port)
    assert requests.get(f"{url_again}/heartbeat", timeout=5).status_code == 200


# --- 3. slow and idle clients ---------------------------------------------------------------------


def test_idle_and_trickling_clients_cannot_starve_it(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    address = ("127.0.0.1", int(url.rsplit(":", 1)[1]))
    idle = [socket.create_connection(address) for _ in range(100)]
    trickling = [socket.create_connection(address) for _ in range(20)]
    stop = threading.Event()

    def trickle() -> None:
        line = b"GET /heartbeat HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
        for byte_index in range(len(line)):
            if stop.wait(0.02):
                return
            for sock in trickling:
                try:
                    sock.send(line[byte_index : byte_index + 1])
                except OSError:
                    return

    trickler = threading.Thread(target=trickle)
    trickler.start()
    try:
        latencies = []
        for _ in range(20):
            started = time.monotonic()
            assert requests.get(f"{url}/heartbeat", timeout=5).status_code == 200
            latencies.append(time.monotonic() - started)
        assert max(latencies) < 0.1, latencies
    finally:
        stop.set()
        trickler.join()
        for sock in idle + trickling:
            sock.close()


def test_header_read_timeout_closes_slow_and_idle_connections(start_endpoint: Start) -> None:
    _, _, url = start_endpoint("options.header_read_timeout", 300)
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=5) as sock:
        sock.sendall(b"GET /heartbeat HTTP/1.1\r\n")  # and never the end of the headers
        started = time.monotonic()
        sock.recv(1024)  # returns when the server gives up on the connection
        assert time.monotonic() - started < 3


# --- 4. limits ------------------------------------------------------------------------------------


def test_uri_over_8_kib_gets_414(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    response = requests.get(f"{url}/heartbeat", params={"q": "x" * 9000}, timeout=5)
    assert_error(response.status_code, response.content, 414)


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


def test_bad_content_length_gets_400(start_endpoint: Start) -> None:
    """Answered by granian's HTTP parser itself, before any Python runs: status 400 with an empty body."""
    _, _, url = start_endpoint()
    status, body = raw_request(url, b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
    assert (status, body) == (400, b"")


def test_memory_stays_flat_on_a_50_mb_request_line(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    before = resident_megabytes()
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
    assert resident_megabytes() - before < 20


def resident_megabytes() -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def test_routes_without_a_body_do_not_read_one(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    response = requests.get(f"{url}/heartbeat", data=b"{not json", headers={"Content-Type": JSON}, timeout=5)
    assert_error(response.status_code, response.content, 413)


# --- 5. one error format --------------------------------------------------------------------------


def test_a_404_message_is_bounded_as_every_error_message(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    response = requests.get(f"{url}/" + "B" * 5000, timeout=5)
    message = assert_error(response.status_code, response.content, 404)["message"]
    assert message.startswith("Not found: '/BBB") and len(message) <= MAX_ERROR_TEXT


def test_unknown_route_gets_404_json(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    response = requests.get(f"{url}/nowhere", params={"correlation_id": "c-404"}, timeout=5)
    description = assert_error(response.status_code, response.content, 404)
    assert (description["code"], description["correlation_id"]) == ("NOT_FOUND", "c-404")


def test_wrong_method_gets_405_json_with_allow(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    response = requests.delete(f"{url}/heartbeat", timeout=5)
    assert_error(response.status_code, response.content, 405)
    assert response.headers["Allow"] == "GET"


def test_unexpected_exception_gets_internal_error_and_is_logged(start_endpoint: Start, capfd) -> None:
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


# --- 6. headers and CORS --------------------------------------------------------------------------


def test_security_headers_and_no_cors_by_default(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    response = requests.get(f"{url}/heartbeat", headers={"Origin": "https://evil.example"}, timeout=5)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert not any(c.isdigit() for c in response.headers["Server"])
    assert "Access-Control-Allow-Origin" not in response.headers
    assert requests.options(f"{url}/heartbeat", timeout=5).status_code == 405


def test_configured_origins_get_cors_and_preflight(start_endpoint: Start) -> None:
    _, _, url = start_endpoint("cors_origins", "https://app.example")
    preflight = requests.options(
        f"{url}/probe/echo",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
        timeout=5,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "correlation_id" in preflight.headers["Access-Control-Allow-Headers"]
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


# --- 8. access log --------------------------------------------------------------------------------


def test_access_log_has_one_line_per_request(start_endpoint: Start, capfd) -> None:
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


# --- 10. HTTPS ------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_https_with_certificate_and_key(start_endpoint: Start, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    _, _, url = start_endpoint(
        "connection.protocol", "https", "credential.ssl_crt_file", str(cert), "credential.ssl_key_file", str(key)
    )
    https_url = url.replace("http://", "https://")
    assert requests.get(f"{https_url}/heartbeat", verify=str(cert), timeout=5).status_code == 200


def test_https_without_certificate_files_fails_open_and_leaves_the_port_free(tmp_path: Path) -> None:
    port = free_port()
    endpoint = HelloWorldHttpEndpoint()
    endpoint.configure(
        ConfigParams.from_tuples(
            "connection.protocol", "https", "connection.host", "127.0.0.1", "connection.port", port,
            "credential.ssl_crt_file", str(tmp_path / "missing.pem"),
            "credential.ssl_key_file", str(tmp_path / "missing-key.pem"),
        )
    )  # fmt: skip
    with pytest.raises(ConfigException, match="certificate"):
        endpoint.open(None)
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))


# --- 11. a drop-in for any Pip.Services service ---------------------------------------------------


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
    allowed = requests.get(f"{url}/probe/secret", headers={"Authorization": "Bearer t"}, timeout=5)
    assert allowed.json() == "ok"


def test_bad_request_exception_from_a_handler_keeps_its_code(start_endpoint: Start) -> None:
    endpoint, _, url = start_endpoint()
    endpoint.register_route("GET", "/refuse", None, lambda: endpoint_error(BadRequestException("c", "NOPE", "refused")))
    response = requests.get(f"{url}/refuse", timeout=5)
    assert assert_error(response.status_code, response.content, 400)["code"] == "NOPE"


def endpoint_error(error: Exception) -> str:
    """What a RestService's send_error does: the library's ErrorDescription with its stack trace."""
    return RestService.send_error(None, error)


JSON = "application/json"


@pytest.mark.parametrize("option", ["send_timeout", "max_unread_per_connection", "max_unread_total"])
@pytest.mark.parametrize("value", [0, -1, "abc"])
def test_the_answer_options_must_be_positive_numbers(option: str, value: object) -> None:
    with pytest.raises(ConfigException, match=f"options.{option} must be a positive number"):
        HelloWorldHttpEndpoint().configure(ConfigParams.from_tuples(f"options.{option}", value))
