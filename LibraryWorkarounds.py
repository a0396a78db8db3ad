"""The one home of this project's fixes for defects in the pinned Pip.Services libraries.

Each fix is a named function that cites the library version and the defect, and is used by every component
that needs it. test/test_LibraryWorkarounds.py checks that each defect is still there: the day an upgrade
fixes one, its test fails, and the workaround can be dropped knowingly.
"""

from pip_services3_commons.config import ConfigParams
from pip_services3_commons.convert import JsonConverter
from pip_services3_commons.errors import ErrorDescriptionFactory
from pip_services3_components.count import CompositeCounters

# RestClient's timeouts, in milliseconds, when the configuration gives none.
DEFAULT_CONNECT_TIMEOUT_MS = 10_000
DEFAULT_TIMEOUT_MS = 10_000


def use_own_counters(counters: CompositeCounters) -> None:
    """Gives a component's CompositeCounters a list of counters of its own.

    pip_services3_components 3.5.9 declares `CompositeCounters._counters = []` at class level, so every
    instance appends to one shared list: with two RestServices and an endpoint in the container, every call
    was counted once per such component (6x). Call it in the component's constructor, on `self._counters`.
    """
    counters._counters = []


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


def error_body(error: Exception) -> tuple[int, str]:
    """The HTTP status and JSON ErrorDescription of `error`, without the server's internals.

    pip_services3_rpc 3.3.4 RestService.send_error (HttpResponseSender.send_error) puts the server's stack
    trace and the error's cause into every error body sent to clients.
    """
    description = ErrorDescriptionFactory.create(error)
    description.stack_trace = None
    description.cause = None
    return description.status, JsonConverter.to_json(description)
