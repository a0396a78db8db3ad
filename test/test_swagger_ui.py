"""Swagger UI: its files sent from disk by the server, dot paths as 404 ErrorDescriptions, relative redirects."""

import io
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest
import requests
from microservice_chassis.build import ChassisFactory
from microservice_chassis.http.endpoint import GranianHttpEndpoint
from microservice_chassis.http.rsgi_bridge import FileBody, call_wsgi
from microservice_chassis.services.swagger_ui import UI_FOLDER, SwaggerUiService
from microservice_chassis.testing import assert_error, raw_request
from pip_services3_commons.refer import Descriptor
from pip_services3_rpc.services import HeartbeatRestService

from HelloWorldRestService import HelloWorldRestService
from HelloWorldServiceFactory import HelloWorldServiceFactory
from support import serving


@pytest.fixture
def url(port: int) -> Iterator[str]:
    services = [
        (ChassisFactory.SwaggerServiceDescriptor, SwaggerUiService()),
        (HelloWorldServiceFactory.HttpServiceDescriptor, HelloWorldRestService()),
        (Descriptor("pip-services", "heartbeat-service", "http", "default", "1.0"), HeartbeatRestService()),
    ]
    with serving(GranianHttpEndpoint, port, *services, probe="/heartbeat") as base_url:
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


def test_ui_files_are_the_librarys_own_whole_and_by_head(url: str) -> None:
    """Served from disk by granian (the endpoint's wsgi.file_wrapper), never read into memory per request: so no
    ranges either (bottle reads a range into memory)."""
    on_disk = (UI_FOLDER / "swagger-ui-bundle.js").read_bytes()
    whole = requests.get(f"{url}/swagger/swagger-ui-bundle.js", headers={"Range": "bytes=0-"}, timeout=10)
    assert (whole.status_code, whole.content) == (200, on_disk) and "Accept-Ranges" not in whole.headers
    assert whole.headers["Content-Type"].startswith("text/javascript")
    source_map = requests.head(f"{url}/swagger/swagger-ui-bundle.js.map", timeout=5)
    assert source_map.headers["Content-Type"] == "application/octet-stream"  # never rendered as a page
    head = requests.head(f"{url}/swagger/swagger-ui-bundle.js", timeout=5)
    assert (head.status_code, head.headers["Content-Length"], head.content) == (200, str(len(on_disk)), b"")


def file_answer(file: object, status: str = "200 OK") -> tuple[int, list[tuple[str, str]], bytes | BinaryIO]:
    """What the endpoint makes of a WSGI app answering with `file` through wsgi.file_wrapper (as bottle does)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(status, [])
        body: Iterable[bytes] = environ["wsgi.file_wrapper"](file)
        return body

    return call_wsgi(app, {"wsgi.file_wrapper": FileBody})


def test_a_file_answer_is_handed_to_the_server_open(tmp_path: Path) -> None:
    """The open file itself, not closed by the WSGI side: the endpoint streams it (even read part-way, or
    unlinked meanwhile: it holds the file) and closes it."""
    path = tmp_path / "ui.js"
    path.write_bytes(b"x" * 100_000)
    whole, part_way = open(path, "rb"), open(path, "rb")  # noqa: SIM115 - the answer owns them
    part_way.seek(4)
    path.unlink()
    for file in (whole, part_way):
        assert file_answer(file) == (200, [], file)
        assert not file.closed
        file.close()


def test_a_file_as_an_error_answer_is_read_here_to_become_an_error_description(tmp_path: Path) -> None:
    """An error's body is read to describe it (never a file path in an ErrorDescription, nor a fault)."""
    path = tmp_path / "error.json"
    path.write_bytes(b'{"code": "GONE"}')
    assert file_answer(open(path, "rb"), "410 Gone") == (410, [], b'{"code": "GONE"}')  # noqa: SIM115


def test_a_file_answer_that_is_no_regular_file_is_read_here() -> None:
    """Any RestService runs on this endpoint unchanged, whatever file-like object it answers with."""
    temporary = tempfile.NamedTemporaryFile()  # noqa: SIM115 - a wrapper, not a file open() made
    temporary.write(b"temporary")
    temporary.seek(0)

    class Reader:  # read() alone, as PEP 3333 allows, and None at the end, as a non-blocking file gives
        def __init__(self) -> None:
            self.parts = [b"non-blocking", None]

        def read(self, size: int) -> bytes | None:
            return self.parts.pop(0)

    for answer, body in [
        (Reader(), b"non-blocking"),
        (io.BytesIO(b"in memory"), b"in memory"),
        (temporary, b"temporary"),
    ]:
        assert file_answer(answer) == (200, [], body)
