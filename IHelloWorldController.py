"""The greeting contract: what every hello-world controller offers, whatever implements it.

Services and clients type against this interface and find the implementation by descriptor
(`hello-world:controller:*:*:1.0`), so none of them imports a component class.
"""

from abc import ABC, abstractmethod


class IHelloWorldController(ABC):
    """Composes greetings; the rules a name must follow belong to the implementation, and every
    transport reaches them through this one method."""

    @abstractmethod
    def greeting(self, name: str | None, correlation_id: str | None = None) -> str:
        """Returns "Hello, <name>!", or greets the default name when `name` is missing or blank.

        Raises BadRequestException (with a code saying which rule failed) for a name it rejects.
        `correlation_id` comes second and is optional, so the tutorial's `greeting(name)` keeps working.
        """
