import time

import pytest
from microservice_chassis.testing import listening_port
from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import InvocationException
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


def test_timeout_is_read_in_milliseconds() -> None:
    """A server that accepts but never answers: a 300 ms timeout must give up in about 0.3 s, not 300 s."""
    with listening_port() as silent_port:
        client, counters = client_for(silent_port, "options.timeout", 300)
        started = time.monotonic()
        with pytest.raises(InvocationException):
            client.greeting(None, "John")
        assert time.monotonic() - started < 3
        assert {c.name: c.count for c in counters.get_all()}["v1/hello_world.greeting.call_errors"] == 1
