"""The template command (microservice_chassis.template, README's "Using it as a template"): a renamed copy of this
service keeps no spelling of the old name, has its files under the new one, and works: a fast part of its own suite
passes, and its run.py serves the renamed route and logs under the new name."""

import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from microservice_chassis.template import Spellings, renamer
from microservice_chassis.testing import free_port, wait_until_serving

from support import ROOT, SERVICE_NAME, process_env

# Two words, so that the four spellings differ (kebab, snake, Camel, title); in a copy (these tests are copied too),
# never its own name, and one word after a one-word name (its two spellings cannot say where four would go).
NEW_NAME = next(
    name
    for name in ("order-history", "stock-level", "invoices", "payments")
    if name != SERVICE_NAME and ("-" in SERVICE_NAME or "-" not in name)
)
OLD, NEW = Spellings.of(SERVICE_NAME), Spellings.of(NEW_NAME)
THIS_FILE = Path(__file__).resolve().relative_to(ROOT)
OLD_SPELLINGS = re.compile("|".join(re.escape(s) for s in {OLD.kebab, OLD.snake, OLD.camel, OLD.title}))
# The copy's fast tests (12 s here): the controller, its commands, the REST service on both endpoints, the clients,
# the factory, the process' wiring and config, the image and manifests, and README's links.
FAST_TESTS = [
    f"test/test_{NEW.camel}Controller.py",
    f"test/test_{NEW.camel}CommandSet.py",
    f"test/test_{NEW.camel}RestService.py",
    f"test/test_I{NEW.camel}Client.py",
    f"test/test_{NEW.camel}ServiceFactory.py",
    f"test/test_{NEW.camel}Process.py",
    "test/test_deploy.py",
    "test/test_readme.py",
]


def template(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "microservice_chassis.template", *map(str, arguments)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def files_of(folder: Path) -> list[Path]:
    """The files in `folder`, relative to it, without those of a linked folder (the chassis: os.walk does not follow
    the link)."""
    return sorted(Path(here, name).relative_to(folder) for here, _, names in os.walk(folder) for name in names)


def old_spellings_in(copy: Path) -> dict[str, list[str]]:
    """Each file of `copy` whose path or text holds a spelling of the old name, with those spellings; but this file,
    whose examples are names of their own (`orders`, which a copy may be named)."""
    found = {}
    for path in files_of(copy):
        if path == THIS_FILE:
            continue
        data = (copy / path).read_bytes()
        text = data.decode("utf-8", "replace") if b"\0" not in data else ""
        if spellings := sorted(set(OLD_SPELLINGS.findall(f"{path}\n{text}"))):
            found[str(path)] = spellings
    return found


def test_the_spellings_follow_from_the_kebab_name() -> None:
    assert Spellings.of("order-history") == Spellings("order-history", "order_history", "OrderHistory", "Order History")
    assert Spellings.of("orders") == Spellings("orders", "orders", "Orders", "Orders")
    assert Spellings.of("api2-v3") == Spellings("api2-v3", "api2_v3", "Api2V3", "Api2 V3")


def test_renaming_replaces_the_four_spellings_and_nothing_else() -> None:
    rename = renamer(Spellings.of("stock-level"), Spellings.of("order-history"))
    text = (
        '# Stock Level\n- descriptor: "stock-level:controller:default:default:1.0"\n'
        "from IStockLevelController import IStockLevelController\nclass StockLevelController: ...\n"
        'GET /stock_level/greeting answers "Hello, John!" (counter stock_level.greeting, test_StockLevelProcess.py)\n'
    )
    assert rename(text) == (
        '# Order History\n- descriptor: "order-history:controller:default:default:1.0"\n'
        "from IOrderHistoryController import IOrderHistoryController\nclass OrderHistoryController: ...\n"
        'GET /order_history/greeting answers "Hello, John!" (counter order_history.greeting, '
        "test_OrderHistoryProcess.py)\n"
    )
    # This service's greeting is no spelling of its name: "Hello, " with a comma.
    assert renamer(OLD, NEW)('"Hello, John!", "Hello, World!"') == '"Hello, John!", "Hello, World!"'


def test_a_one_word_name_is_renamed_only_as_a_whole_word() -> None:
    rename = renamer(Spellings.of("orders"), Spellings.of("invoices"))
    assert rename("orders.greeting IOrdersController Orders borders reorders Ordersome orders2") == (
        "invoices.greeting IInvoicesController Invoices borders reorders Ordersome orders2"
    )
    # Its two spellings cannot say which of four goes where.
    with pytest.raises(ValueError, match="in two ways"):
        renamer(Spellings.of("orders"), Spellings.of("order-history"))


@pytest.fixture
def small_service(tmp_path: Path) -> Path:
    """A service outside any git checkout, named stock-level, with its chassis in ./lib (requirements.txt names it),
    a binary file, an executable script, and a venv and caches that are not copied."""
    source = tmp_path / "source"
    for path, text in {
        "config.yml": '- descriptor: "pip-services:context-info:default:default:1.0"\n  name: stock-level\n',
        "requirements.txt": "pytest==9.2.0\n-e ./lib[test]  # the chassis\n",
        "StockLevelProcess.py": 'NAME = "stock-level"\n',
        "docs/stock_level.md": "# Stock Level\n",
        ".ci/run": "#!/bin/sh\necho stock-level\n",
        "lib/pyproject.toml": "stock-level\n",
        ".venv/bin/python": "stock-level\n",
        "__pycache__/StockLevelProcess.pyc": "stock-level\n",
        ".pytest_cache/v": "stock-level\n",
    }.items():
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        (source / path).write_text(text)
    (source / ".ci" / "run").chmod(0o755)
    (source / "logo.png").write_bytes(b"\x89PNG\0stock-level\xff")
    return source


def test_a_copy_outside_git_renames_files_links_the_chassis_and_keeps_modes_and_binaries(
    small_service: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    made = template(small_service, copy, "order-history")
    assert made.returncode == 0, made.stderr
    assert files_of(copy) == sorted(
        map(Path, [".ci/run", "OrderHistoryProcess.py", "config.yml", "docs/order_history.md", "logo.png",
                   "requirements.txt"])
    )  # fmt: skip
    assert (copy / "OrderHistoryProcess.py").read_text() == 'NAME = "order-history"\n'
    assert (copy / "docs" / "order_history.md").read_text() == "# Order History\n"
    chassis = small_service / "lib"
    assert (copy / "requirements.txt").read_text() == f"pytest==9.2.0\n-e {chassis}[test]  # the chassis\n"
    assert (copy / "lib").is_symlink() and (copy / "lib").resolve() == (small_service / "lib").resolve()
    assert (copy / "logo.png").read_bytes() == b"\x89PNG\0stock-level\xff"  # binary: copied as it is
    assert stat.S_IMODE((copy / ".ci" / "run").stat().st_mode) == 0o755
    # A copy of the copy: the chassis is still the first one, linked again.
    again = template(copy, tmp_path / "again", "orders")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / "lib").resolve() == (small_service / "lib").resolve()
    assert (tmp_path / "again" / "OrdersProcess.py").read_text() == 'NAME = "orders"\n'


@pytest.mark.parametrize(
    ("arguments", "refusal"),
    [
        (("{source}", "{existing}", "orders"), "exists and is not empty"),
        (("{source}", "{new}", "Orders"), "NEW_NAME 'Orders' is not lowercase kebab case"),
        (("{source}", "{new}", "order--history"), "NEW_NAME 'order--history' is not lowercase kebab case"),
        (("{source}", "{new}", "2orders"), "NEW_NAME '2orders' is not lowercase kebab case"),
        (("{source}/docs", "{new}", "orders"), "has no config.yml"),
        (("{source}", "{new}", "orders", "--from", "Stock_Level"), "'Stock_Level' is not lowercase kebab case"),
        (("{source}", "{new}", "order-history", "--from", "stock"), "'stock' is one word"),
        (("{source}", "{new}"), "required: NEW_NAME"),
    ],
    ids=[
        "dest-not-empty",
        "capitals",
        "double-hyphen",
        "leading-digit",
        "no-config",
        "bad-from",
        "one-word-source",
        "no-name",
    ],
)
def test_a_refusal_is_one_line_and_exit_2_and_copies_nothing(
    small_service: Path, tmp_path: Path, arguments: tuple[str, ...], refusal: str
) -> None:
    (tmp_path / "existing").mkdir()
    (tmp_path / "existing" / "kept").write_text("")
    folders = {"source": small_service, "existing": tmp_path / "existing", "new": tmp_path / "new"}
    result = template(*(argument.format(**folders) for argument in arguments))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("template: ") and result.stderr.count("\n") == 1, result.stderr
    assert refusal in result.stderr
    assert not (tmp_path / "new").exists() and os.listdir(tmp_path / "existing") == ["kept"]


@pytest.mark.slow
def test_a_renamed_copy_of_this_service_keeps_no_old_name_and_works(tmp_path: Path) -> None:
    copy = tmp_path / NEW_NAME
    made = template(ROOT, copy, NEW_NAME)
    assert made.returncode == 0, made.stderr
    # Nothing needs to keep the old name: it is the service's own, and the chassis (which names it in its examples)
    # is linked, not copied.
    assert old_spellings_in(copy) == {}
    assert (copy / "chassis").resolve() == (ROOT / "chassis").resolve()
    assert str((ROOT / "chassis").resolve()) in (copy / "requirements.txt").read_text().splitlines()
    for old in [*ROOT.glob(f"*{OLD.camel}*"), *(ROOT / "test").glob(f"*{OLD.camel}*")]:
        renamed = old.relative_to(ROOT).with_name(old.name.replace(OLD.camel, NEW.camel))
        assert (copy / renamed).is_file(), renamed
    assert {f"{NEW.camel}Controller.py", f"I{NEW.camel}Controller.py", f"{NEW.camel}Process.py"} <= set(
        os.listdir(copy)
    )
    assert '`"Hello, John!"`' in (copy / "README.md").read_text()

    # Its own fast tests, with this venv (where the chassis is installed).
    env = {key: value for key, value in process_env().items() if key != "PYTHONPATH"}
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "not slow", "-p", "no:cacheprovider", *FAST_TESTS],
        cwd=copy, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert suite.returncode == 0, suite.stdout[-5000:] + suite.stderr[-5000:]
    assert re.search(r"\b\d{2,} passed\b", suite.stdout) and " error" not in suite.stdout.splitlines()[-1]

    # Its run.py, from another folder: the renamed route, the greeting unchanged, the log under the new name.
    port = free_port()
    with open(tmp_path / "output.txt", "w") as output:
        process = subprocess.Popen(
            [sys.executable, str(copy / "run.py")],
            cwd=tmp_path, env=process_env(HTTP_HOST="127.0.0.1", HTTP_PORT=str(port)), stdout=output, stderr=output,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{url}/heartbeat")
        greeting = requests.get(f"{url}/{NEW.snake}/greeting", params={"name": "John"}, timeout=5)
        assert greeting.json() == "Hello, John!"
        assert requests.get(f"{url}/{OLD.snake}/greeting", params={"name": "John"}, timeout=5).status_code == 404
        assert requests.get(f"{url}/status", timeout=5).json()["name"] == NEW_NAME
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    log = (tmp_path / "output.txt").read_text()
    assert f"Container {NEW_NAME} started" in log and f"Container {NEW_NAME} stopped" in log
    assert not OLD_SPELLINGS.search(log), log
