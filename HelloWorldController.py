"""The business logic of the service: composing a greeting.

It knows nothing of HTTP, so it can be tested alone and reused behind any
transport: the REST route calls `greeting`, the commandable service the same
method through the controller's command set. It also owns the rules a
name must follow, so every transport rejects the same names the same way.
"""

from pip_services3_commons.commands import CommandSet, ICommandable
from pip_services3_commons.config import ConfigParams, IConfigurable
from pip_services3_commons.errors import BadRequestException, ConfigException

from HelloWorldCommandSet import HelloWorldCommandSet
from IHelloWorldController import IHelloWorldController
from NameRules import check_name_argument, name_fault


class HelloWorldController(IHelloWorldController, ICommandable, IConfigurable):
    """Greets a person by name, or the configured default name.

    Configuration parameters:
        - default_name: the name used when a request gives none (default "Pip User"); it must follow the rules of
          a name and not be blank, else configure raises ConfigException INVALID_DEFAULT_NAME
    """

    FALLBACK_NAME = "Pip User"

    def __init__(self) -> None:
        self._default_name = self.FALLBACK_NAME
        self._command_set: HelloWorldCommandSet | None = None

    def configure(self, config: ConfigParams) -> None:
        """Reads `default_name`, trimmed; the fallback only when it is absent.

        A default name that breaks the rules of a name, or is blank (a greeting must never be "Hello, !"), is a
        mistake of whoever configured it: refused here, at startup, in one line that does not echo the value.
        """
        default_name = config.get_as_nullable_string("default_name")
        if default_name is None:
            self._default_name = self.FALLBACK_NAME
            return
        fault = name_fault(default_name) or (None if default_name.strip() else ("", "must not be blank"))
        if fault is not None:
            raise ConfigException(None, "INVALID_DEFAULT_NAME", f"default_name {fault[1]}")
        self._default_name = default_name.strip()

    def get_command_set(self) -> CommandSet:
        """The commands other services call through the commandable service and clients: one per name operation."""
        if self._command_set is None:
            self._command_set = HelloWorldCommandSet(self)
        return self._command_set

    def greeting(self, name: str | None, correlation_id: str | None = None) -> str:
        """Returns "Hello, <name>!"; a missing, empty or whitespace-only name means the default one (see
        _name_to_use for the names refused)."""
        return f"Hello, {self._name_to_use(name, correlation_id)}!"

    def _name_to_use(self, name: str | None, correlation_id: str | None) -> str:
        """The name a name operation answers with: `name` trimmed, or the default one for a missing, empty or
        whitespace-only name.

        Raises BadRequestException with code INVALID_NAME_TYPE or INVALID_ENCODING for what
        check_name_argument refuses, NAME_HAS_CONTROL_CHARACTERS for a name with control characters
        anywhere (tabs and line breaks around it too), or NAME_TOO_LONG for a name longer than
        MAX_NAME_LENGTH after trimming.
        """
        check_name_argument(name, correlation_id)
        name = name or ""
        fault = name_fault(name)
        if fault is not None:
            error = BadRequestException(correlation_id, fault[0], f"Name {fault[1]}")
            raise error.with_details("length", len(name.strip())) if fault[0] == "NAME_TOO_LONG" else error
        return name.strip() or self._default_name
