"""The client contract: what every hello-world client offers, whatever transport carries the call.

Callers type against this interface and pick a client by descriptor (direct, http, commandable-http), so they can
switch transports without a change; test/test_IHelloWorldClient.py runs every client against the same cases, and
fails for an operation of IHelloWorldController that this interface lacks.

The argument order is Pip.Services' client convention, correlation id first (`greeting(correlation_id, name)`);
the controller keeps the tutorial's `greeting(name, correlation_id=None)` (see IHelloWorldController).
"""

from abc import ABC, abstractmethod


class IHelloWorldClient(ABC):
    """Calls a hello-world controller, in this process or over HTTP, with the same results and exceptions."""

    @abstractmethod
    def greeting(self, correlation_id: str | None, name: str | None) -> str:
        """Returns "Hello, <name>!", or the greeting of the service's default name for None or a blank name.

        Raises BadRequestException with the controller's code (NAME_TOO_LONG...) for a name it rejects, before any
        call for a name that is not a string or not Unicode text (NameRules.check_name_argument), and
        InvocationException when the service cannot be reached in time.
        """
