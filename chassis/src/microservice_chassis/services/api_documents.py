"""The OpenAPI documents' shared parts, in one place: the correlation id parameter, the error responses and the
ErrorDescription schema (common.yml), as every service on the chassis answers them. Each service's document refers to
them (`$ref: "#/components/..."`) and gets them merged in by `complete`."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

COMMON_PATH = Path(__file__).with_name("common.yml")


@cache
def _common() -> dict[str, Any]:
    components: dict[str, Any] = yaml.safe_load(COMMON_PATH.read_text())["components"]
    return components


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with the shared components added beside its own (its own win on a clash of names)."""
    completed = copy.deepcopy(document)
    components = completed.setdefault("components", {})
    for kind, entries in _common().items():
        components[kind] = {**copy.deepcopy(entries), **components.get(kind, {})}
    return completed


class _NoAliases(yaml.SafeDumper):
    """Writes a dict used twice in full each time: Swagger UI and some tools do not follow YAML anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def to_yaml(document: dict[str, Any]) -> str:
    """The document as YAML, in its own order."""
    return str(yaml.dump(document, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=1000))
