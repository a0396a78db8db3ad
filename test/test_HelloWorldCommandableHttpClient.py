import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import BadRequestException, InvocationException
from pip_services3_commons.refer import Descriptor, References
from pip_services3_components.count import LogCounters

from HelloWorldCommandableHttpClient import HelloWorldCommandableHttpClient


def client_for(port: int, *options: object) -> tuple[HelloWorldCommandableHttpClient, LogCounters]:
    client, counters = HelloWorldCommandableHttpClient(), LogCounters()
    client.configure(
        ConfigParams.from_tuples(
            "connection.protocol", "http", "connection.host", "127.0.0.1", "connection.port", port, *options
        )
    )
    client.set_references(References.from_tuples(Descriptor("pip-services", "counters", "log", "t", "1.0"), counters))
    client.open(None)
    return client, counters


@pytest.fixture
def live(start_process) -> Iterator[tuple[HelloWorldCommandableHttpClient, LogCounters]]:
    """The client against the whole service, run as a user runs it."""
    _, url = start_process()
    client, counters = client_for(urlsplit(url).port)
    yield client, counters
    client.close(None)


def counts(counters: LogCounters) -> dict[str, int]:
    """Each counter's count: for a `_time` counter, how many timings it recorded."""
    return {c.name: c.count for c in counters.get_all()}


def test_greets_rejects_with_the_server_code_and_counts_exactly(live) -> None:
    client, counters = live
    assert client.greeting("cid-1", "John") == "Hello, John!"
    assert client.greeting(None, None) == "Hello, World!"
    assert client.greeting(None, "Zoë 山田") == "Hello, Zoë 山田!"
    with pytest.raises(BadRequestException) as raised:
        client.greeting("cid-400", "x" * 300)
    assert (raised.value.code, raised.value.status, raised.value.correlation_id) == ("NAME_TOO_LONG", 400, "cid-400")
    with pytest.raises(BadRequestException) as raised:
        client.greeting(None, "a\x1b[31m")
    assert raised.value.code == "NAME_HAS_CONTROL_CHARACTERS"
    assert counts(counters) == {
        "v1/hello_world.greeting.call_count": 5,
        "v1/hello_world.greeting.call_time": 5,
        "v1/hello_world.greeting.call_errors": 2,
    }


def test_timeout_is_read_in_milliseconds() -> None:
    """A server that accepts but never answers: a 300 ms timeout must give up in about 0.3 s, not 300 s."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        client, counters = client_for(silent.getsockname()[1], "options.timeout", 300)
        started = time.monotonic()
        with pytest.raises(InvocationException):
            client.greeting(None, "John")
        assert time.monotonic() - started < 3
        assert counts(counters)["v1/hello_world.greeting.call_errors"] == 1


def test_refuses_a_name_it_cannot_send_as_the_other_clients_do(live) -> None:
    """Sent, a number became INVALID_DATA and a surrogate a UnicodeEncodeError."""
    client, _ = live
    for name, code in [(123, "INVALID_NAME_TYPE"), (["a"], "INVALID_NAME_TYPE"), ("\ud800", "INVALID_ENCODING")]:
        with pytest.raises(BadRequestException) as raised:
            client.greeting("cid-t", name)
        assert (raised.value.code, raised.value.status, raised.value.correlation_id) == (code, 400, "cid-t")
