import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import BadRequestException, InvocationException

from HelloWorldRestClient import HelloWorldRestClient


def client_for(port: int, *options: object) -> HelloWorldRestClient:
    client = HelloWorldRestClient()
    client.configure(
        ConfigParams.from_tuples(
            "connection.protocol", "http", "connection.host", "127.0.0.1", "connection.port", port, *options
        )
    )
    client.open(None)
    return client


@pytest.fixture
def client(service_url: str) -> Iterator[HelloWorldRestClient]:
    client = client_for(urlsplit(service_url).port)
    yield client
    client.close(None)


def test_greets_the_given_name(client: HelloWorldRestClient) -> None:
    assert client.greeting("cid-1", "John") == "Hello, John!"


def test_without_a_name_gets_the_default(client: HelloWorldRestClient) -> None:
    assert client.greeting(None, None) == "Hello, World!"


def test_unicode_round_trips(client: HelloWorldRestClient) -> None:
    assert client.greeting(None, "Zoë 山田") == "Hello, Zoë 山田!"


def test_a_400_surfaces_as_bad_request_exception_with_the_server_code(client: HelloWorldRestClient) -> None:
    with pytest.raises(BadRequestException) as raised:
        client.greeting("cid-400", "x" * 300)
    assert raised.value.code == "NAME_TOO_LONG"
    assert raised.value.status == 400
    assert raised.value.correlation_id == "cid-400"


def test_timeout_is_read_in_milliseconds() -> None:
    """A server that accepts but never answers: a 300 ms timeout must give up in about 0.3 s, not 300 s."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        client = client_for(silent.getsockname()[1], "options.timeout", 300)
        started = time.monotonic()
        with pytest.raises(InvocationException):
            client.greeting(None, "John")
        assert time.monotonic() - started < 3


@pytest.mark.parametrize(("name", "code"), [(123, "INVALID_NAME_TYPE"), (["a"], "INVALID_NAME_TYPE"),
                                            ("\ud800", "INVALID_ENCODING")])  # fmt: skip
def test_refuses_a_name_it_cannot_send_as_the_other_clients_do(
    client: HelloWorldRestClient, name: object, code: str
) -> None:
    """Sent, a number became "Hello, 123!" and a surrogate an InvocationException with status 500."""
    with pytest.raises(BadRequestException) as raised:
        client.greeting("cid-t", name)
    assert (raised.value.code, raised.value.status, raised.value.correlation_id) == (code, 400, "cid-t")
