"""The service's version in the whole process (`python run.py`): one source, pyproject.toml's `[project] version`,
and the same build in `--version`, /status, the build_info metric and the spans' resource."""

import os
import platform
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import requests
from otlp_receiver import otlp_receiver
from prometheus_client.parser import text_string_to_metric_families

from support import ROOT, SERVICE_NAME, RunningProcess, process_env

Start = Callable[..., tuple[RunningProcess, str]]
RunToExit = Callable[..., subprocess.CompletedProcess[str]]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
VERSION = PROJECT["version"]
REVISION = "0123456789ab"  # as the image gives it (deploy/Dockerfile's REVISION build argument)
BUILD = {"version": VERSION, "revision": REVISION, "python": platform.python_version()}


def test_the_project_metadata_names_the_service() -> None:
    assert PROJECT["name"] == SERVICE_NAME


def test_version_prints_the_build_and_exits(run_to_exit: RunToExit) -> None:
    done = run_to_exit("--version", SERVICE_REVISION=REVISION)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"{SERVICE_NAME} {VERSION} (revision {REVISION}, Python {platform.python_version()})\n"


def test_status_metrics_and_spans_name_the_same_build(start_process: Start) -> None:
    with otlp_receiver() as (endpoint, received):
        process, url = start_process(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, SERVICE_REVISION=REVISION)
        status = requests.get(f"{url}/status", timeout=5).json()
        scrape = requests.get(f"{url}/metrics", timeout=5).text
        requests.get(f"{url}/hello_world/greeting", timeout=5)
        process.stop()
        ((resource, _),) = received.wait_for(1, timeout=1.0)
    assert status["properties"] == BUILD
    (family,) = [family for family in text_string_to_metric_families(scrape) if family.name.endswith("_build_info")]
    assert family.name == f"{SERVICE_NAME.replace('-', '_')}_build_info"
    assert [(sample.labels, sample.value) for sample in family.samples] == [(BUILD, 1.0)]
    assert resource["service.version"] == VERSION


def test_the_revision_is_the_checkouts_without_one_given(start_process: Start) -> None:
    """In a git checkout (this one, when the tests run from one) the revision is its commit; "unknown" without."""
    expected = "unknown"
    if shutil.which("git"):
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True
        )
        expected = head.stdout.strip() if head.returncode == 0 else expected
    _, url = start_process(SERVICE_REVISION="")
    assert requests.get(f"{url}/status", timeout=5).json()["properties"]["revision"] == expected


def _service_copy(tmp_path: Path) -> Path:
    """The service's top-level files in `tmp_path/service`, but its pyproject.toml: a copy to break it in."""
    service = tmp_path / "service"
    service.mkdir()
    for path in [*ROOT.glob("*.py"), *ROOT.glob("*.yml")]:
        shutil.copy(path, service)
    return service


def _run(service: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "run.py", *args], cwd=service, env=process_env(), capture_output=True, text=True, timeout=10
    )


def test_a_project_without_a_version_stops_the_start_in_one_line_but_not_help(tmp_path: Path) -> None:
    """A copy of the service whose pyproject.toml lost its version: no version to show is a broken build; `--help`
    still answers, for the operator who reads it to find out why."""
    service = _service_copy(tmp_path)
    project = (ROOT / "pyproject.toml").read_text().replace(f'version = "{VERSION}"\n', "")
    (service / "pyproject.toml").write_text(project)
    expected = f'{SERVICE_NAME}: {service / "pyproject.toml"} has no [project] version (e.g. version = "1.0.0")\n'
    for args in [(), ("--version",)]:
        done = _run(service, *args)
        assert (done.returncode, done.stdout, done.stderr) == (1, "", expected)
    assert _run(service, "--help").returncode == 0


def test_a_fifo_for_a_project_file_stops_the_start_at_once(tmp_path: Path) -> None:
    """Nobody writes to it: opened blocking, the start would wait forever and ignore the first SIGTERM."""
    service = _service_copy(tmp_path)
    os.mkfifo(service / "pyproject.toml")
    started = time.monotonic()
    done = _run(service)
    assert time.monotonic() - started < 5
    assert done.returncode == 1
    assert (
        done.stderr
        == f"{SERVICE_NAME}: Project file {service / 'pyproject.toml'} is not a regular file: it is a FIFO\n"
    )


def test_a_revision_given_that_is_none_stops_the_start_in_one_line(run_to_exit: RunToExit) -> None:
    """It would be printed, served and put in a metric label as given: a newline or a terminal escape refused."""
    done = run_to_exit(SERVICE_REVISION="abc\x1b[31mred")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"{SERVICE_NAME}: SERVICE_REVISION='abc\\x1b[31mred' is not a revision")
    assert done.stderr.count("\n") == 1
