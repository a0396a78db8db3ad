"""The greeting contract: what every hello-world controller offers, whatever implements it.

Services and clients type against this interface and find the implementation by descriptor
(`hello-world:controller:*:*:1.0`), so none of them imports a component class.
"""

from abc import ABC, abstractmethod

from pip_services3_commons.refer import Descriptor

# Where services and clients find the controller among the container's components: any of the hello-world group.
CONTROLLER_LOCATOR = Descriptor("hello-world", "controller", "*", "*", "1.0")


class IHelloWorldController(ABC):
    @abstractmethod
    def greeting(self, name: str | None, correlation_id: str | None = None) -> str:
        """Returns "Hello, <name>!", or greets the default name when `name` is missing or blank; raises
        BadRequestException with the code of the rule a name breaks (NameRules). `correlation_id` comes second
        and is optional, so the tutorial's `greeting(name)` keeps working."""
