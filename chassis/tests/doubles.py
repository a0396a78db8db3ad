"""Test doubles of the chassis' tests: services that use every part of the endpoint interface a Pip.Services
service may use, and requests whose bodies never come whole."""

from microservice_chassis.library_fixes.rest_service import RepairedRestService

import threading
from collections.abc import Callable
from typing import NamedTuple

import bottle
from microservice_chassis.http.endpoint import GranianHttpEndpoint
from pip_services3_commons.commands import Command, CommandSet, ICommandable
from pip_services3_commons.convert import TypeCode
from pip_services3_commons.refer import Descriptor
from pip_services3_commons.validate import ObjectSchema
from pip_services3_rpc.services import CommandableHttpService, RestService

# What GET /probe/big answers: 2 MB.
BIG_ANSWER = b"x" * 2_000_000


class ProbeService(RestService):
    """A test service using every part of the endpoint interface a Pip.Services service may use."""

    def __init__(self) -> None:
        super().__init__()
        self._base_route = "probe"
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)
        self.intercepted = 0

    def register(self) -> None:
        self.register_route("GET", "/slow", None, self._slow)
        self.register_route("GET", "/boom", None, self._boom)
        self.register_route("GET", "/big", None, lambda: BIG_ANSWER)  # streamed: larger than a small answer
        schema = ObjectSchema().with_required_property(
            "body", ObjectSchema().with_required_property("n", TypeCode.Integer)
        )
        self.register_route("POST", "/echo", schema, lambda: self.send_result(bottle.request.json))
        self.register_route_with_auth("GET", "/secret", None, self._deny_without_token, lambda: self.send_result("ok"))
        self.register_interceptor("/echo", self._count)  # RestService prefixes the base route

    def _slow(self) -> str:
        self.entered.release()
        self.release.wait(10)
        answer: str = self.send_result("done")
        return answer

    def _boom(self) -> str:
        raise RuntimeError("secret detail /etc/passwd")

    def _count(self) -> None:
        self.intercepted += 1

    @staticmethod
    def _deny_without_token() -> None:
        if bottle.request.headers.get("Authorization") != "Bearer t":
            raise bottle.HTTPError(401, "no token", **{"WWW-Authenticate": 'Bearer realm="probe"'})


class Adder(ICommandable):
    def get_command_set(self) -> CommandSet:
        commands = CommandSet()
        schema = (
            ObjectSchema().with_required_property("a", TypeCode.Integer).with_required_property("b", TypeCode.Integer)
        )
        commands.add_command(Command("add", schema, lambda correlation_id, args: args.get("a") + args.get("b")))
        return commands


class AdderService(CommandableHttpService):
    def __init__(self) -> None:
        super().__init__("adder")
        self._dependency_resolver.put("controller", Descriptor("test", "adder", "*", "*", "1.0"))


class EndpointUnderTest(NamedTuple):
    """An opened GranianHttpEndpoint, the probe service registered on it, and its base URL."""

    endpoint: GranianHttpEndpoint
    probe: ProbeService
    url: str


Start = Callable[..., EndpointUnderTest]


# Requests whose body never comes whole: chunked and by Content-Length, to a GET and to a POST route.
STALLED_BODIES = [
    b"GET /heartbeat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
    b"GET /heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc",
    b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n10\r\n{",
    b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
]


class RepairedService(RepairedRestService, RestService):
    """A REST service with the chassis' repairs and nothing of its own, for the library fixes' tests."""

    def __init__(self) -> None:
        super().__init__()
        self._base_route = "repaired"

    def register(self) -> None:
        """No route: the tests call the repaired methods themselves."""
