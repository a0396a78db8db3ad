"""The HTTP clients' fixes (pip_services3_rpc 3.3.4 RestClient): timeouts in seconds, the connect timeout
honoured, and the instrumentation fixes."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from microservice_chassis.library_fixes.instrumentation import InstrumentedCall, instrument, repair_instrumentation

from typing import TYPE_CHECKING

from pip_services3_commons.config import ConfigParams

# RestClient's timeouts, in milliseconds, when the configuration gives none.
DEFAULT_CONNECT_TIMEOUT_MS = 10_000
DEFAULT_TIMEOUT_MS = 10_000


def client_timeouts(config: ConfigParams) -> tuple[float, float]:
    """The (connect, read) timeouts in seconds that RestClient must pass to `requests`.

    pip_services3_rpc 3.3.4 RestClient hands `options.timeout`, in milliseconds, to `requests`, which reads
    seconds (10 s became 2.8 hours), and ignores `options.connect_timeout`. A client sets `self._timeout` to
    this pair in `configure`; RestClient._call passes it on as `timeout`.
    """
    return (
        config.get_as_integer_with_default("options.connect_timeout", DEFAULT_CONNECT_TIMEOUT_MS) / 1000,
        config.get_as_integer_with_default("options.timeout", DEFAULT_TIMEOUT_MS) / 1000,
    )


if TYPE_CHECKING:  # for the checker, the mixin is what it mixes into (at run time the clients are not imported
    # here: they bring `requests` into a service's process)
    from pip_services3_rpc.clients import RestClient as HttpClientBase
else:
    HttpClientBase = object


class RepairedHttpClient(HttpClientBase):
    """A mixin for a RestClient or CommandableHttpClient subclass (listed before it), bringing the fixes above:
    timeouts in seconds with the connect timeout honoured (client_timeouts) and the instrumentation fixes
    (repair_instrumentation, instrument). The client calls `_repair()` at the end of its constructor.

    Configuration parameters (those of every Pip.Services HTTP client, with the timeouts as documented):
        - connection.protocol / host / port (or connection.uri): where the service listens
        - options.connect_timeout: milliseconds to wait for a connection (default 10000)
        - options.timeout: milliseconds to wait for the answer (default 10000)
    """

    def _repair(self) -> None:
        self._timeout = client_timeouts(ConfigParams())
        repair_instrumentation(self)

    def configure(self, config: ConfigParams) -> None:
        """Reads the connection and the timeouts, in seconds as `requests` wants them (see client_timeouts)."""
        super().configure(config)
        self._timeout = client_timeouts(config)

    def _instrument(self, correlation_id: str | None, name: str) -> InstrumentedCall:
        """The library's timing, with the server's rejections logged at INFO, not ERROR (see instrument)."""
        return instrument(correlation_id, name, "call", self._logger, self._counters, self._tracer)
