"""Swagger UI: its files from memory, dot paths as 404 ErrorDescriptions, redirects that reflect no header."""

import threading
import time
from collections.abc import Iterator

import pytest
import requests
from pip_services3_commons.refer import Descriptor
from pip_services3_rpc.services import HeartbeatRestService

from HelloWorldHttpEndpoint import HelloWorldHttpEndpoint
from HelloWorldRestService import HelloWorldRestService
from HelloWorldServiceFactory import HelloWorldServiceFactory
from HelloWorldSwaggerService import HelloWorldSwaggerService
from support import assert_error, raw_request, serving


@pytest.fixture
def url(port: int) -> Iterator[str]:
    services = [
        (HelloWorldServiceFactory.SwaggerServiceDescriptor, HelloWorldSwaggerService()),
        (HelloWorldServiceFactory.HttpServiceDescriptor, HelloWorldRestService()),
        (Descriptor("pip-services", "heartbeat-service", "http", "default", "1.0"), HeartbeatRestService()),
    ]
    with serving(HelloWorldHttpEndpoint, port, *services, probe="/heartbeat") as base_url:
        yield base_url


@pytest.mark.parametrize("path", ["/swagger/.", "/swagger/..", "/swagger/nope.js", "/swagger/%2e%2e"])
def test_names_that_are_not_ui_files_get_404_json(url: str, path: str) -> None:
    status, body = raw_request(url, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert assert_error(status, body, 404)["code"] == "NOT_FOUND"


@pytest.mark.parametrize(("path", "location"), [("/swagger", "swagger/index.html"), ("/swagger/", "index.html")])
def test_redirects_are_relative_whatever_the_host(url: str, path: str, location: str) -> None:
    hostile = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    response = requests.get(f"{url}{path}", headers=hostile, allow_redirects=False, timeout=5)
    assert (response.status_code, response.headers["Location"]) == (301, location)


def test_index_lists_the_registered_documents(url: str) -> None:
    response = requests.get(f"{url}/swagger/", timeout=5)  # follows the redirect
    assert response.headers["Content-Type"].startswith("text/html")
    assert '"url": "/hello_world/swagger"' in response.text


def test_large_ui_files_do_not_hold_up_other_requests(url: str) -> None:
    source_map = requests.get(f"{url}/swagger/swagger-ui-bundle.js.map", timeout=10)
    assert source_map.status_code == 200 and len(source_map.content) > 1_000_000
    stop = threading.Event()

    def fetch() -> None:
        while not stop.is_set():
            requests.get(f"{url}/swagger/swagger-ui-bundle.js.map", timeout=10)

    fetchers = [threading.Thread(target=fetch) for _ in range(20)]
    for fetcher in fetchers:
        fetcher.start()
    try:
        for _ in range(5):
            started = time.monotonic()
            assert requests.get(f"{url}/heartbeat", timeout=5).status_code == 200
            assert time.monotonic() - started < 1.0
    finally:
        stop.set()
        for fetcher in fetchers:
            fetcher.join()
