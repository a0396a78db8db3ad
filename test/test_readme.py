"""README tells the truth: its sample console output is what the service prints, and its links and docs/'s lead
somewhere."""

import re
import signal
from collections.abc import Callable
from pathlib import Path

import requests
from microservice_chassis.http.endpoint import GranianHttpEndpoint
from microservice_chassis.http.options import DEFAULTS

from support import ROOT, RunningProcess

README = ROOT / "README.md"
CHASSIS = ROOT / "chassis"
DOCUMENTS = [
    README,
    CHASSIS / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((CHASSIS / "docs").glob("*.md")),
]
# What changes from run to run: the time of each log line, and the address the endpoint listens on.
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z")
ADDRESS = re.compile(r"http://[^\s/]+:\d+")
# Markdown links [text](target); autolinks <http://...> are absolute and not checked.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def readme_console_output() -> list[str]:
    """The lines of the code block after README's <!-- console-output --> marker."""
    block = README.read_text().split("<!-- console-output -->\n", 1)[1]
    return block.split("```\n", 1)[1].split("```", 1)[0].splitlines()


def comparable(lines: list[str]) -> list[str]:
    return [ADDRESS.sub("http://ADDRESS", TIME.sub("TIME", line)) for line in lines]


def test_readme_console_output_is_what_the_service_prints(
    start_process: Callable[..., tuple[RunningProcess, str]],
) -> None:
    """As README tells it: the service started, one greeting opened, Ctrl-C."""
    process, url = start_process()
    assert requests.get(f"{url}/hello_world/greeting?name=John", timeout=5).json() == "Hello, John!"
    assert process.stop(signal_number=signal.SIGINT) == 0
    assert comparable(process.output.splitlines()) == comparable(readme_console_output())


def anchors(document: Path) -> set[str]:
    """The anchors GitHub gives the headings of `document`: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.*)$", document.read_text(), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def broken_links(document: Path) -> list[str]:
    """The relative links of `document` whose file, or heading anchor in a Markdown file, does not exist."""
    broken = []
    for target in LINK.findall(document.read_text()):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in anchors(linked)):
            broken.append(target)
    return broken


def test_every_relative_link_of_readme_and_docs_points_to_an_existing_file() -> None:
    assert len(DOCUMENTS) > 1
    assert {str(document.relative_to(ROOT)): broken_links(document) for document in DOCUMENTS} == {
        str(document.relative_to(ROOT)): [] for document in DOCUMENTS
    }


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    """The check above can fail: a missing file and a missing heading are both reported."""
    (tmp_path / "other.md").write_text("# Some heading\n")
    document = tmp_path / "doc.md"
    document.write_text(
        "[ok](other.md#some-heading) [gone](missing.md) [no heading](other.md#nope) [web](https://x.y)\n"
    )
    assert broken_links(document) == ["missing.md", "other.md#nope"]


def in_bytes(default: str) -> str:
    """A docstring's default as DEFAULTS writes it: "8 KiB" is 8192."""
    number, _, unit = default.partition(" ")
    return str(int(number) * {"": 1, "KiB": 1024, "MiB": 1024 * 1024}[unit]) if number.isdigit() else default


def test_the_endpoint_options_agree_wherever_they_are_stated() -> None:
    """Each option of the endpoint (http_endpoint/options.DEFAULTS) is in the endpoint's docstring and in
    chassis/docs/http-endpoint.md's table, both with the same default, and no other one; config.yml sets each."""
    defaults = {
        key.removeprefix("options."): str(value).lower()
        for key, value in DEFAULTS.items()
        if key.startswith("options.")
    }
    table = dict(re.findall(r"^\| `(\w+)` \| (\S+)", (CHASSIS / "docs" / "http-endpoint.md").read_text(), re.M))
    assert table == defaults
    documented = dict(
        re.findall(
            r"- options\.(\w+):(?:(?!- options\.).)*?\(default ([^;,:)]+)", GranianHttpEndpoint.__doc__ or "", re.S
        )
    )
    assert {option: in_bytes(default) for option, default in documented.items()} == defaults
    configured = set(re.findall(r"^    (\w+): ", (ROOT / "config.yml").read_text(), re.M)) & set(defaults)
    assert configured == set(defaults)
