"""The process container: reads config.yml, builds the components by descriptor and runs them until a signal."""

import contextlib
import io
import sys
from pathlib import Path

from pip_services3_commons.config import ConfigParams
from pip_services3_commons.errors import ConfigException
from pip_services3_container import ProcessContainer
from pip_services3_prometheus.build import DefaultPrometheusFactory
from pip_services3_rpc.build import DefaultRpcFactory
from pip_services3_swagger.build import DefaultSwaggerFactory

from HelloWorldServiceFactory import HelloWorldServiceFactory

# Beside this file, not in the working directory, so `python /any/path/run.py` finds it.
CONFIG_PATH = Path(__file__).with_name("config.yml")


class HelloWorldProcess(ProcessContainer):
    """The hello-world container.

    ProcessContainer gives it the command line (`-c FILE`, `-p KEY=VALUE`, `-h`), the
    environment as config parameters, and the Ctrl-C/SIGTERM handling; this class adds
    the factories and makes every startup failure an exception the caller reports in one line.
    """

    def __init__(self) -> None:
        super().__init__("hello-world", "HelloWorld microservice")
        self._config_path = str(CONFIG_PATH)
        self.add_factory(HelloWorldServiceFactory())
        self.add_factory(DefaultRpcFactory())
        self.add_factory(DefaultSwaggerFactory())
        self.add_factory(DefaultPrometheusFactory())

    def read_config_from_file(self, correlation_id: str | None, path: str, parameters: ConfigParams) -> None:
        """Refuses a config without components: the library would start an empty container and idle forever."""
        super().read_config_from_file(correlation_id, path, parameters)
        if not self._config:
            raise ConfigException(correlation_id, "EMPTY_CONFIG", f"Config file {path} declares no components")

    def open(self, correlation_id: str | None) -> None:
        """Opens the components; on failure raises without the library's own output.

        Container.open logs a fatal line, prints two chained tracebacks and logs "stopped"
        before it re-raises: that output is held back while it runs and dropped on failure
        (run.py prints one line instead); on success it is passed on unchanged.
        """
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            super().open(correlation_id)
        sys.stdout.write(out.getvalue())
        sys.stderr.write(err.getvalue())
