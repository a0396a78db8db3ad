"""The process container: reads config.yml, builds the components by descriptor and runs them until a signal."""

from pathlib import Path

from microservice_chassis.process.container import ChassisProcess
from microservice_chassis.process.parameters import CHASSIS_PARAMETERS, Parameter
from microservice_chassis.process.stop_signals import StopSignals

from HelloWorldServiceFactory import HelloWorldServiceFactory
from NameRules import MAX_NAME_LENGTH, name_fault

# Beside run.py, not in the working directory, so `python /any/path/run.py` finds them.
CONFIG_PATH = Path(__file__).resolve().with_name("config.yml")
# Its [project] version is the service's (run.py --version, /status, hello_world_build_info, the spans).
PROJECT_PATH = CONFIG_PATH.with_name("pyproject.toml")


def name_problem(value: str) -> str | None:
    """The rules of a name (NameRules.name_fault); blank is refused too, since an empty value already means the
    default."""
    fault = name_fault(value)
    if fault is None:
        return None if value.strip() else "is blank (leave it unset for the default)"
    # A parameter's lone surrogates are the bytes of an environment variable that are not UTF-8.
    return "is not valid text (bytes that are not UTF-8)" if fault[0] == "INVALID_ENCODING" else fault[1]


class HelloWorldProcess(ChassisProcess):
    """The hello-world container: the chassis' process (ChassisProcess) with this service's factory and its
    parameter DEFAULT_NAME."""

    parameters = (
        *CHASSIS_PARAMETERS,
        Parameter(
            "DEFAULT_NAME",
            "World",
            f"the name greeted when a request gives none; trimmed, at most {MAX_NAME_LENGTH} characters, "
            "no control characters",
            name_problem,
        ),
    )

    def __init__(self, stop_signals: StopSignals | None = None) -> None:
        super().__init__("hello-world", "HelloWorld microservice", CONFIG_PATH, PROJECT_PATH, stop_signals)
        self.add_factory(HelloWorldServiceFactory())
