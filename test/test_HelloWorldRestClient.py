import time

import pytest
from microservice_chassis.testing import listening_port
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import InvocationException

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


def test_timeout_is_read_in_milliseconds() -> None:
    """A server that accepts but never answers: a 300 ms timeout must give up in about 0.3 s, not 300 s."""
    with listening_port() as silent_port:
        client = client_for(silent_port, "options.timeout", 300)
        started = time.monotonic()
        with pytest.raises(InvocationException):
            client.greeting(None, "John")
        assert time.monotonic() - started < 3
