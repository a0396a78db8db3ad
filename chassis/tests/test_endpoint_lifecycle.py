"""Opening and closing the endpoint: it fails fast on a bad port, host, option or certificate, and drains on close."""

import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from microservice_chassis.http.endpoint import GranianHttpEndpoint
from microservice_chassis.testing import address_of, free_port, listening_port
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import ConfigException, ConnectionException

from doubles import Start

# --- open, or fail fast ---------------------------------------------------------------------------


def test_open_serves_every_route_at_once(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    assert requests.get(f"{url}/heartbeat", timeout=5).status_code == 200  # no poll: open waits for nothing


def test_port_in_use_fails_open_naming_host_and_port(start_endpoint: Start) -> None:
    with listening_port() as port, pytest.raises(ConnectionException, match=f"127.0.0.1:{port}.*(in use|Address)"):
        start_endpoint(port=port)


def test_two_instances_cannot_share_a_port(start_endpoint: Start) -> None:
    _, _, url = start_endpoint()
    second = GranianHttpEndpoint()
    second.configure(ConfigParams.from_tuples("connection.host", "127.0.0.1", "connection.port", address_of(url)[1]))
    with pytest.raises(Exception, match=r"Cannot listen on 127\.0\.0\.1"):
        second.open(None)


@pytest.mark.parametrize("port", ["abc", "70000", "-1"])
def test_invalid_port_fails_open(port: str) -> None:
    endpoint = GranianHttpEndpoint()
    endpoint.configure(ConfigParams.from_tuples("connection.host", "127.0.0.1", "connection.port", port))
    with pytest.raises(ConfigException, match="port"):
        endpoint.open(None)


@pytest.mark.parametrize("option", ["send_timeout", "max_unread_per_connection", "max_unread_total"])
@pytest.mark.parametrize("value", [0, -1, "abc"])
def test_the_answer_options_must_be_positive_numbers(option: str, value: object) -> None:
    with pytest.raises(ConfigException, match=f"options.{option} must be a positive number"):
        GranianHttpEndpoint().configure(ConfigParams.from_tuples(f"options.{option}", value))


def test_unresolvable_host_fails_open() -> None:
    endpoint = GranianHttpEndpoint()
    endpoint.configure(ConfigParams.from_tuples("connection.host", "no-such-host.invalid", "connection.port", 8080))
    with pytest.raises(ConnectionException, match=r"no-such-host\.invalid:8080"):
        endpoint.open(None)


def test_a_host_name_is_resolved_before_listening() -> None:
    endpoint, port = GranianHttpEndpoint(), free_port()
    endpoint.configure(ConfigParams.from_tuples("connection.host", "localhost", "connection.port", port))
    endpoint.open(None)
    try:
        assert requests.get(f"http://127.0.0.1:{port}/nowhere", timeout=5).status_code == 404
    finally:
        endpoint.close(None)


def test_an_unencodable_host_name_fails_open_in_one_line() -> None:
    endpoint = GranianHttpEndpoint()
    endpoint.configure(ConfigParams.from_tuples("connection.host", "a" * 300, "connection.port", free_port()))
    with pytest.raises(ConnectionException, match=r"Cannot listen on a+:"):
        endpoint.open(None)


# --- close ----------------------------------------------------------------------------------------


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


# --- HTTPS ----------------------------------------------------------------------------------------


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
    endpoint = GranianHttpEndpoint()
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
    endpoint = GranianHttpEndpoint()
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
