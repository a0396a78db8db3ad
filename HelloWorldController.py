"""The business logic of the service: composing a greeting.

It knows nothing of HTTP, so it can be tested alone and reused behind any
transport (REST today, a queue or gRPC tomorrow).
"""

from pip_services3_commons.config import ConfigParams, IConfigurable


class HelloWorldController(IConfigurable):
    """Greets a person by name, or the configured default name.

    Configuration parameters:
        - default_name: the name used when a request gives none (default "Pip User")
    """

    FALLBACK_NAME = "Pip User"

    def __init__(self) -> None:
        self._default_name = self.FALLBACK_NAME

    def configure(self, config: ConfigParams) -> None:
        """Reads `default_name`; a blank one keeps the fallback so a greeting is never "Hello, !"."""
        default_name = config.get_as_string_with_default("default_name", "").strip()
        self._default_name = default_name or self.FALLBACK_NAME

    def greeting(self, name: str | None) -> str:
        """Returns "Hello, <name>!"; a missing, empty or whitespace-only name means the default one."""
        name = (name or "").strip()
        return f"Hello, {name or self._default_name}!"
