"""The process container a service extends: reads its config file, builds the components by descriptor through the
service's factory and the chassis', and runs them until a stop signal."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from microservice_chassis.library_fixes.counters import log_counters_factory
from microservice_chassis.library_fixes.loggers import UtcConsoleLogger, utc_console_logger_factory

import contextlib
import io
import sys
from pathlib import Path

from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import ConfigException
from pip_services3_commons.refer import Descriptor
from pip_services3_components.log import DefaultLoggerFactory
from pip_services3_container import ProcessContainer
from pip_services3_container.config import ContainerConfig
from pip_services3_prometheus.build import DefaultPrometheusFactory
from pip_services3_rpc.build import DefaultRpcFactory

from microservice_chassis.build import ChassisFactory
from microservice_chassis.process import build_info, identity
from microservice_chassis.process.build_info import read_revision, read_version
from microservice_chassis.process.command_line import Invocation, parse_command_line
from microservice_chassis.process.config_reader import read_config
from microservice_chassis.process.parameters import CHASSIS_PARAMETERS, Parameter
from microservice_chassis.process.stop_signals import StopSignals
from microservice_chassis.process.streams import guard_standard_streams

CONSOLE_LOGGER = DefaultLoggerFactory.ConsoleLoggerDescriptor
CONTEXT_INFO = Descriptor("*", "context-info", "*", "*", "*")  # as Container.open finds it


class ChassisProcess(ProcessContainer):
    """A Pip.Services ProcessContainer that owns what the library's `run` did loosely.

    ProcessContainer gives it the container lifecycle and the console logger; this class adds the chassis' factory
    and the Pip.Services RPC and Prometheus factories, a strict command line, parameters that arrive as the exact
    strings given and are checked, and SIGTERM, SIGINT and SIGHUP heard from the first line of run.py (see
    StopSignals). Every startup failure is an exception the caller reports in one line (Startup.run).

    A service's container passes its name, description, config file and project file (the pyproject.toml whose
    `[project] version` is the service's: process/build_info.py), adds its own factory, and lists its own parameters
    after the chassis' in `parameters`.
    """

    # The parameters the config file may read: `run.py --help` lists them, the command line checks them.
    parameters: tuple[Parameter, ...] = CHASSIS_PARAMETERS

    def __init__(
        self,
        name: str,
        description: str,
        config_path: Path,
        project_path: Path,
        stop_signals: StopSignals | None = None,
    ) -> None:
        super().__init__(name, description)
        identity.declare(name, description)
        self._project_path = project_path
        self._config_path = str(config_path)
        self._logger = UtcConsoleLogger()
        self._stop_signals = stop_signals
        self.add_factory(ChassisFactory())
        self.add_factory(DefaultRpcFactory())
        self.add_factory(DefaultPrometheusFactory())
        self.add_factory(log_counters_factory())  # last, so they are asked first
        self.add_factory(utc_console_logger_factory())

    def parse_command_line(self, args: list[str] | None = None) -> Invocation:
        """The command line (sys.argv's by default) as this service reads it: its parameters, its config file."""
        return parse_command_line(self.parameters, Path(self._config_path), self._version_line, args)

    def declare_build(self) -> None:
        """Reads the service's version and revision (process/build_info.py) for every line, span and metric: at
        `--version`, and before the config is read; not when the process is made, so that `--help` answers whatever
        the project file holds."""
        identity.declare_build(read_version(self._project_path), read_revision(self._project_path.parent))

    def _version_line(self) -> str:
        self.declare_build()
        return build_info.version_line()

    def run(self, invocation: Invocation | None = None) -> None:
        """Opens the container as `invocation` (by default: sys.argv's) asks, waits for a stop signal, closes.

        A signal during startup is answered once the container has opened what it opens: it is then closed
        at once. One that comes before the opening begins stops it before opening (and says so).
        See parse_command_line for `--help` and mistakes.
        """
        invocation = invocation or self.parse_command_line()
        if self._stop_signals is None:
            guard_standard_streams()
            self._stop_signals = StopSignals()
            self._stop_signals.install()
        correlation_id = self._info.name
        self.declare_build()
        path = invocation.config_path or self._config_path
        self.read_config_from_file(correlation_id, path, ConfigParams(invocation.parameters))
        if not self._stop_signals.requested:
            # Warned once open, so that a failure to open stays one line; by the console logger of before the open,
            # since the library's own logger from then on writes nothing when the config declares none.
            own_logger = self._logger
            self.open(correlation_id)
            if not any(serves(component.descriptor) for component in self._config):
                own_logger.warn(
                    correlation_id,
                    f"Config file {path} declares no service (no component whose type ends in 'service' or names an "
                    "endpoint): the process serves nothing",
                )
            self._logger.info(
                correlation_id, "Stop with Ctrl-C, SIGTERM or SIGHUP; a second Ctrl-C or SIGTERM stops at once"
            )
        signal_name = self._stop_signals.wait().name
        self._logger.info(correlation_id, f"{signal_name} received: closing")
        if not self.is_open():  # the signal came before open: the library's close would say nothing
            self._logger.info(correlation_id, f"Container {self._info.name} stopped before opening")
        self.close(correlation_id)

    def read_config_from_file(self, correlation_id: str | None, path: str, parameters: ConfigParams) -> None:
        """Fills the config's parameters with exact strings (read_config), and refuses a config without
        components (the library would start an empty container and idle forever) or with a descriptor given
        twice (see refuse_duplicates)."""
        self._config = read_config(correlation_id, path, parameters)
        if not self._config:
            raise ConfigException(correlation_id, "EMPTY_CONFIG", f"Config file {path} declares no components")
        refuse_duplicates(correlation_id, path, self._config)
        self._configure_own_logger()
        self._show_build()

    def _show_build(self) -> None:
        """Puts the build (version, revision, Python) in the context info's properties, which /status shows: those
        of the config's context-info component (over any the file sets), else those of the container's own."""
        build = build_info.properties()
        self._info.properties = build
        for component in self._config:
            if component.descriptor is not None and CONTEXT_INFO.match(component.descriptor):
                for key, value in build.items():
                    component.config.put(f"properties.{key}", value)

    def _configure_own_logger(self) -> None:
        """Configures the container's own logger as config.yml's console logger (level, format), so that the lines
        written before the components open (a signal during startup) look like all the others."""
        for component in self._config:
            if component.descriptor is not None and CONSOLE_LOGGER.match(component.descriptor):
                self._logger.configure(component.config)

    def open(self, correlation_id: str | None) -> None:
        """Opens the components; on failure raises without the library's own output.

        Container.open logs a fatal line, prints two chained tracebacks and logs "stopped"
        before it re-raises: that output is held back while it runs and dropped on failure
        (Startup.run prints one line instead); on success it is passed on unchanged.
        """
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            super().open(correlation_id)
        sys.stdout.write(out.getvalue())
        sys.stderr.write(err.getvalue())


def refuse_duplicates(correlation_id: str | None, path: str, config: ContainerConfig) -> None:
    """Refuses a component descriptor given twice (the same group:type:kind:name:version), in one line naming it.

    The library builds both: two endpoints then race for one port, two services register the same routes on the
    shared endpoint, and a lookup by that descriptor gets either one. Two components of one kind meant to coexist
    differ by name (the fourth part), so an identical pair is a copy left by mistake.
    """
    seen: set[str] = set()
    for component in config:
        if component.descriptor is None:
            continue
        descriptor = str(component.descriptor)
        if descriptor in seen:
            raise ConfigException(
                correlation_id,
                "DUPLICATE_COMPONENT",
                f"Config file {path} declares {descriptor} twice (give each component of a kind its own name)",
            )
        seen.add(descriptor)


def serves(descriptor: Descriptor | None) -> bool:
    """Whether a component is one of those that serve requests: by the Pip.Services naming, whose services' types
    end in `service` (`service`, `heartbeat-service`, `status-service`...) and whose endpoints' contain
    `endpoint`. A config with none starts a process that answers nothing, which deserves a word."""
    kind = (descriptor.get_type() or "") if descriptor is not None else ""
    return kind.endswith("service") or "endpoint" in kind
