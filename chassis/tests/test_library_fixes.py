"""library_fixes: each defect it fixes is still in the pinned library, and the fix is in place wherever it is needed.

The canaries load the library's own code: the day an upgrade fixes a defect, its canary fails, and the fix can be
dropped knowingly.
"""

from microservice_chassis.library_fixes import token_type

import ast
import importlib.util
import subprocess
import sys
from importlib.abc import Loader
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import cast

import pytest
from microservice_chassis.testing import imported_names

LIBRARY = Path(cast(str, cast(ModuleSpec, importlib.util.find_spec("pip_services3_expressions")).origin)).parent
LIBRARY_TOKEN_TYPE = LIBRARY / "tokenizers" / "TokenType.py"

# The chassis' modules as installed: each may be the first a service or a test imports.
PACKAGE = Path(cast(str, cast(ModuleSpec, importlib.util.find_spec("microservice_chassis")).origin)).parent
CHASSIS_MODULES = sorted(path.relative_to(PACKAGE) for path in PACKAGE.glob("**/*.py"))


def test_canary_pip_services3_expressions_token_type_has_its_stray_comma() -> None:
    """3.3.6 declares `Unknown = 0,`: a tuple that 3.13+ cannot increment, and that 3.11.2 increments wrongly."""
    spec = cast(ModuleSpec, importlib.util.spec_from_file_location("library_token_type", LIBRARY_TOKEN_TYPE))
    module = importlib.util.module_from_spec(spec)
    try:
        cast(Loader, spec.loader).exec_module(module)
    except TypeError as error:
        assert sys.version_info >= (3, 13)
        assert "unable to increment (0,)" in str(error)
    else:
        assert sys.version_info < (3, 13)
        assert module.TokenType.Unknown.value == (0,)


def test_the_stand_in_has_the_library_members_in_order_with_the_values_python_3_12_gives() -> None:
    declared = ast.parse(LIBRARY_TOKEN_TYPE.read_text())
    (library_class,) = (node for node in declared.body if isinstance(node, ast.ClassDef))
    names = [cast(ast.Name, node.targets[0]).id for node in library_class.body if isinstance(node, ast.Assign)]
    assert names == list(token_type.TokenType.__members__)
    assert [member.value for member in token_type.TokenType] == [(0,), *range(1, len(names))]


def test_the_library_uses_the_stand_in() -> None:
    from pip_services3_expressions.tokenizers import TokenType

    assert TokenType is token_type.TokenType
    assert sys.modules[token_type.LIBRARY_MODULE] is token_type


@pytest.mark.parametrize("path", [path for path in CHASSIS_MODULES if "library_fixes" not in path.parts], ids=str)
def test_every_module_importing_pip_services3_imports_library_fixes_before(path: Path) -> None:
    names = imported_names(ast.parse((PACKAGE / path).read_text()))
    libraries = [index for index, name in enumerate(names) if name.startswith("pip_services3")]
    if libraries:
        assert "microservice_chassis.library_fixes" in names[: libraries[0]]


@pytest.mark.parametrize(
    "module",
    [
        "microservice_chassis.process.container",
        "microservice_chassis.http.options",
        "microservice_chassis.process.config_reader",
    ],
)
def test_a_component_imported_first_fixes_the_library_for_what_follows(module: str) -> None:
    """A test, a benchmark or a team's script that imports a component and then the stack, on this Python."""
    script = (
        f"import {module}, sys; from pip_services3_container import ProcessContainer; "
        "from pip_services3_components.config import YamlConfigReader; "
        f"print(sys.modules[{token_type.LIBRARY_MODULE!r}].__name__)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert result.stderr == ""
    assert result.stdout.strip() == "microservice_chassis.library_fixes.token_type"


def test_a_defective_token_type_imported_before_library_fixes_is_refused_by_name() -> None:
    """As 3.11.2 creates it (members after Eol are aliases of Eol): the config would be read as empty, silently."""
    script = (
        "import enum, sys, types; "
        f"module = sys.modules[{token_type.LIBRARY_MODULE!r}] = types.ModuleType('defective'); "
        "module.TokenType = enum.Enum('TokenType', {'Unknown': (0,), 'Eof': 1, 'Eol': 2, 'Float': 2}); "
        "import microservice_chassis.library_fixes"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "ImportError: pip_services3_expressions.tokenizers.TokenType was imported before library_fixes" in (
        result.stderr
    )
