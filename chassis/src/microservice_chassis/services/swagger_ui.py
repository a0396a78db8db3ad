"""Swagger UI at /swagger, listing the OpenAPI documents the services register.

It serves the UI that pip_services3_swagger ships, as its SwaggerService does, without that service's faults
(pip_services3_swagger 3.0.2): `/swagger/.` and `/swagger/..` answered 500 with a traceback, every file (a 4.7 MB
source map among them) was read from disk on the handler thread per request, and the redirect from /swagger
built an absolute URL from the client's Host / X-Forwarded-Host headers.
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from microservice_chassis.library_fixes.rest_service import RepairedRestService

import json
import mimetypes
import os
from functools import cache
from pathlib import Path
from typing import BinaryIO

import bottle
import pip_services3_swagger
from pip_services3_commons.errors import NotFoundException
from pip_services3_rpc.services import ISwaggerService, RestService

# The files of the UI as the library ships them.
UI_FOLDER = Path(pip_services3_swagger.__file__).parent / "swagger-ui"


class SwaggerUiService(RepairedRestService, RestService, ISwaggerService):
    """`chassis:swagger-service:default:default:1.0`: GET /swagger (the UI) and its static files.

    Services find it by `*:swagger-service:*:*:1.0` and register their documents with `register_open_api_spec`.
    The UI's files are answered as open files, which the endpoint sends from disk (index.html, which lists the
    documents, is read once); a name that is not one of the UI's files is a 404 ErrorDescription.
    """

    def __init__(self) -> None:
        super().__init__()
        self._base_route: str | None = "swagger"
        self._documents: dict[str, str] = {}
        self._files = frozenset(path.name for path in UI_FOLDER.iterdir() if path.is_file())

    def register_open_api_spec(self, base_route: str, swagger_route: str | None = None) -> None:
        """Lists a service's document, e.g. ("orders", "/swagger") -> "/orders/swagger"."""
        route = "/" + "/".join(part.strip("/") for part in (base_route, swagger_route or "") if part.strip("/"))
        self._documents[base_route.strip("/") or "default"] = route

    def register(self) -> None:
        base_route, self._base_route = self._base_route or "", None
        self.register_route("get", "/" + base_route, None, lambda: self._redirect(base_route + "/index.html"))
        self._base_route = base_route
        self.register_route("get", "/", None, lambda: self._redirect("index.html"))
        self.register_route("get", "/index.html", None, self._index)
        self.register_route("get", "/<file_name>", None, self._file)

    @staticmethod
    def _redirect(location: str) -> None:
        """A redirect relative to the request's own URL: nothing the client sends ends up in Location."""
        bottle.response.status = 301
        bottle.response.set_header("Location", location)

    def _index(self) -> str:
        urls = [{"name": name, "url": url} for name, url in self._documents.items()]
        bottle.response.content_type = "text/html; charset=utf-8"
        return _read("index.html").decode().replace("[/*urls*/]", json.dumps(urls))

    def _file(self, file_name: str) -> str | BinaryIO:
        """A UI file, answered as an open file: an endpoint with `wsgi.file_wrapper` (ours) sends it from disk
        itself, so the 1 MB bundle and the 4.7 MB source map are never read into memory per request, nor held for a
        client that reads slowly. Ranges are not offered: bottle would read a range into memory."""
        if file_name not in self._files:
            return self.send_error(NotFoundException(self._get_correlation_id(), "NOT_FOUND", "No such file"))
        path = UI_FOLDER / file_name
        bottle.response.content_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        file = path.open("rb")
        bottle.response.content_length = os.fstat(file.fileno()).st_size
        return file


@cache
def _read(file_name: str) -> bytes:
    """A UI file's content, read from disk once (the UI's files are a fixed set: the cache is bounded)."""
    return (UI_FOLDER / file_name).read_bytes()
