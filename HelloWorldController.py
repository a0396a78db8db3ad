"""The business logic of the service: composing a greeting.

It knows nothing of HTTP, so it can be tested alone and reused behind any
transport: the REST route calls `greeting`, the commandable service the same
method through the controller's command set. It also owns the rules a
name must follow, so every transport rejects the same names the same way.
"""

import re

from pip_services3_commons.commands import CommandSet, ICommandable
from pip_services3_commons.config import ConfigParams, IConfigurable
from pip_services3_commons.errors import BadRequestException

from HelloWorldCommandSet import HelloWorldCommandSet
from IHelloWorldController import MAX_NAME_LENGTH, IHelloWorldController

# C0 controls and DEL: they would let a name forge log lines or terminal output.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f]")


class HelloWorldController(IHelloWorldController, ICommandable, IConfigurable):
    """Greets a person by name, or the configured default name.

    Configuration parameters:
        - default_name: the name used when a request gives none (default "Pip User")
    """

    FALLBACK_NAME = "Pip User"

    def __init__(self) -> None:
        self._default_name = self.FALLBACK_NAME
        self._command_set: HelloWorldCommandSet | None = None

    def configure(self, config: ConfigParams) -> None:
        """Reads `default_name`; a blank one keeps the fallback so a greeting is never "Hello, !"."""
        default_name = config.get_as_string_with_default("default_name", "").strip()
        self._default_name = default_name or self.FALLBACK_NAME

    def get_command_set(self) -> CommandSet:
        """The commands other services call through the commandable service and clients: `greeting`."""
        if self._command_set is None:
            self._command_set = HelloWorldCommandSet(self)
        return self._command_set

    def greeting(self, name: str | None, correlation_id: str | None = None) -> str:
        """Returns "Hello, <name>!"; a missing, empty or whitespace-only name means the default one.

        Raises BadRequestException with code NAME_HAS_CONTROL_CHARACTERS for a name with control
        characters anywhere (tabs and line breaks around it too), or NAME_TOO_LONG for a name longer
        than MAX_NAME_LENGTH after trimming.
        """
        name = name or ""
        if CONTROL_CHARACTERS.search(name):
            raise BadRequestException(
                correlation_id, "NAME_HAS_CONTROL_CHARACTERS", "Name must not contain control characters"
            )
        name = name.strip()
        if len(name) > MAX_NAME_LENGTH:
            raise BadRequestException(
                correlation_id, "NAME_TOO_LONG", f"Name must be at most {MAX_NAME_LENGTH} characters"
            ).with_details("length", len(name))
        return f"Hello, {name or self._default_name}!"
