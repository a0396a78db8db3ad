"""The service's modules and the chassis' library fixes: a module that loads pip_services3_expressions imports the
chassis first, and the service's own modules load none of it (so they need not)."""

from microservice_chassis.library_fixes import token_type

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from microservice_chassis.testing import imported_names

from support import ROOT

# Every module of the service that runs in production or in bench/: tests go through conftest.py.
PROJECT_MODULES = sorted(path.relative_to(ROOT) for pattern in ("*.py", "bench/*.py") for path in ROOT.glob(pattern))
# What imports pip_services3_expressions (the mustache templates of the config readers): only these need the fix
# first. The service's own modules import pip_services3_commons, _components.build and _rpc, which do not.
NEEDS_THE_FIX = ("pip_services3_container", "pip_services3_components.config", "pip_services3_expressions")


@pytest.mark.parametrize("path", PROJECT_MODULES, ids=str)
def test_every_module_loading_the_config_readers_imports_the_chassis_before(path: Path) -> None:
    names = imported_names(ast.parse((ROOT / path).read_text()))
    libraries = [index for index, name in enumerate(names) if name.startswith(NEEDS_THE_FIX)]
    if libraries:
        assert any(name.startswith("microservice_chassis") for name in names[: libraries[0]])


def test_the_service_modules_do_not_load_the_defective_library() -> None:
    """What lets the service's modules leave the fixes to the chassis: importing them loads no
    pip_services3_expressions."""
    modules = ", ".join(path.stem for path in ROOT.glob("*.py") if path.stem not in ("run", "HelloWorldProcess"))
    loaded = f"name.startswith('pip_services3_expressions') and name != {token_type.LIBRARY_MODULE!r}"
    script = f"import sys, {modules}; print(any({loaded} for name in sys.modules))"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert (result.stdout.strip(), result.stderr) == ("False", "")


def test_the_process_imported_first_fixes_the_library_for_what_follows() -> None:
    """A test, a benchmark or a team's script that imports the process and then the stack, on this Python."""
    script = (
        "import HelloWorldProcess, sys; from pip_services3_container import ProcessContainer; "
        f"print(sys.modules[{token_type.LIBRARY_MODULE!r}].__name__)"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert (result.stdout.strip(), result.stderr) == ("microservice_chassis.library_fixes.token_type", "")
