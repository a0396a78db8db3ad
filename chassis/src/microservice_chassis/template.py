"""Makes a renamed copy of a service built on this chassis, the way a team starts its next service:

    python -m microservice_chassis.template SOURCE DEST NEW_NAME [--from OLD_NAME]

Why a command: a service names itself in four spellings (kebab `order-history`: its process, descriptor group, image
and Kubernetes names; snake `order_history`: routes and counters; Camel `OrderHistory`: classes and file names; title
`Order History`: titles), spread over code, config, OpenAPI documents, manifests, docs, tests and benchmarks. A copy
renamed by hand misses some, and a missed one fails late (a descriptor nobody registers, a route the docs name wrong).
This replaces every spelling of the old name, in file contents and file names, and nothing else: text that merely
contains a word of the name ("Order: 5") is no spelling of it and stays.

What it copies: the files git tracks under SOURCE, with those it would add (untracked, not ignored), when SOURCE is in
a git checkout; otherwise every file, without .git, .venv and the caches. The chassis is not copied: a copy installs
it, as the source does. The chassis is the folder a requirements*.txt line names by a local path (`./chassis`): that
line names it by its absolute path in the copy, and the copy gets a symbolic link at the chassis' place pointing to
it, so that what the copy says of `chassis/` (README's commands and links, the tests reading the chassis' docs and
build files, pyproject.toml's test paths) still finds it. The old name is read from SOURCE's config.yml (the
context-info's `name:`) unless --from gives it; the new one is given in kebab case and the other spellings follow
from it. The Python files the renaming changed are then import-sorted and formatted by ruff, as the copy configures
it, when ruff is at hand: a name of another length and initial moves imports and lines.

It refuses, in one line with exit code 2, a DEST that is not empty, a name that is not lowercase kebab case, a
SOURCE without config.yml, and a one-word source name with a new name of several words (`orders` is both its kebab
and its snake spelling: which of `order-history` and `order_history` goes where is unknown). It imports nothing of
any service, nor the libraries: it is plain file work.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import NoReturn

PROGRAM = "template"
KEBAB = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
# Never copied: a checkout's git data, a venv, and what tools leave behind.
SKIPPED = frozenset({".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"})
# A requirements line that is a local path: `./chassis`, `../libs/chassis`, `/abs/chassis`, `-e ./chassis[test]`,
# a comment after it.
LOCAL_REQUIREMENT = re.compile(
    r"^(?P<lead>\s*(?:(?:-e|--editable)\s+)?)(?P<path>(?:\.{1,2}|~)?/\S*?|\.)(?P<extras>\[[^\]]*\])?(?P<rest>\s+#.*|\s*)$"
)
CONTEXT_INFO = re.compile(r"""^\s*-?\s*descriptor:\s*["']?[^:"'\s]*:context-info:""")


class RefusalError(Exception):
    """A request this command does not carry out, said in one line (exit code 2)."""


@dataclass(frozen=True)
class Spellings:
    """The four spellings of a service's name, all following from its kebab case."""

    kebab: str  # order-history
    snake: str  # order_history
    camel: str  # OrderHistory
    title: str  # Order History

    @classmethod
    def of(cls, kebab: str) -> "Spellings":
        words = kebab.split("-")
        return cls(
            kebab, "_".join(words), "".join(w.capitalize() for w in words), " ".join(w.capitalize() for w in words)
        )


def renamer(old: Spellings, new: Spellings) -> Callable[[str], str]:
    """A function replacing each spelling of `old` by the same spelling of `new`, in one pass (so that a new name
    containing an old spelling is not renamed twice).

    A spelling counts only as a whole name: a lowercase one not inside a longer lowercase word or number
    (`order_history.get`, `test_order_history`; not `reorder_history`), a capitalized one not continued by lowercase
    (`IOrderHistoryController`; not `OrderHistorys`). For a distinctive name that changes nothing; for a one-word name
    (`orders`) it keeps `borders` and `reorders`.

    A one-word name has two spellings, not four (`orders`, `Orders`), which cannot tell where each of a name of
    several words would go (`order-history` or `order_history`?): ValueError.
    """
    replacements: dict[str, str] = {}
    for before, after in zip(astuple(old), astuple(new), strict=True):
        if replacements.setdefault(before, after) != after:
            raise ValueError(f"{old.kebab!r} spells {before!r} in two ways that {new.kebab!r} spells apart")
    lowercase = {old.kebab, old.snake}
    patterns = [
        rf"(?<![a-z0-9]){re.escape(s)}(?![a-z0-9])" if s in lowercase else rf"(?<![a-z]){re.escape(s)}(?![a-z])"
        for s in sorted(replacements, key=len, reverse=True)
    ]
    spelling = re.compile("|".join(patterns))
    return lambda text: spelling.sub(lambda match: replacements[match.group(0)], text)


def context_info_name(config: str) -> str | None:
    """The `name:` of the context-info component in a Pip.Services config.yml (text, since its {{...}} parameters
    keep it from being YAML before they are filled in)."""
    lines = config.splitlines()
    for index, line in enumerate(lines):
        if CONTEXT_INFO.match(line):
            for entry in lines[index + 1 :]:
                if entry.lstrip().startswith("- "):
                    return None
                if found := re.match(r"""^\s*name:\s*["']?([^"'#\s]+)""", entry):
                    return found.group(1)
    return None


@dataclass(frozen=True)
class LocalRequirement:
    """A requirements line naming a package by its folder, as a service names the chassis."""

    file: Path  # relative to SOURCE
    line: int
    folder: Path  # absolute

    def rewritten(self, text: str) -> str:
        """`text` (the file) with this line naming the folder by its absolute path."""
        lines = text.splitlines(keepends=True)
        match = LOCAL_REQUIREMENT.match(lines[self.line].rstrip("\r\n"))
        assert match, lines[self.line]
        ending = lines[self.line][len(lines[self.line].rstrip("\r\n")) :]
        lines[self.line] = f"{match['lead']}{self.folder}{match['extras'] or ''}{match['rest']}{ending}"
        return "".join(lines)


def local_requirements(source: Path) -> list[LocalRequirement]:
    """The local-path lines of SOURCE's requirements*.txt: the chassis (and any other package installed from a
    folder)."""
    found = []
    for file in sorted(source.glob("requirements*.txt")):
        for number, line in enumerate(file.read_text().splitlines()):
            if match := LOCAL_REQUIREMENT.match(line):
                folder = Path(os.path.expanduser(match["path"]))
                folder = Path(os.path.abspath(folder if folder.is_absolute() else source / folder))
                found.append(LocalRequirement(file.relative_to(source), number, folder))
    return found


def listed_files(source: Path) -> list[Path]:
    """The files to copy, relative to SOURCE: git's (tracked, and untracked but not ignored) in a git checkout, else
    every file; never anything under SKIPPED. Symbolic links are listed as files (they are copied as links)."""
    git = shutil.which("git")
    if git and _inside_git_work_tree(git, source):
        result = subprocess.run(
            [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=source,
            capture_output=True,
            check=True,
        )
        listing = sorted({Path(os.fsdecode(name)) for name in result.stdout.split(b"\0") if name})
    else:
        listing = sorted(_walked(source))
    return [
        path
        for path in listing
        if not SKIPPED & set(path.parts) and ((source / path).is_file() or (source / path).is_symlink())
    ]


def _inside_git_work_tree(git: str, source: Path) -> bool:
    result = subprocess.run([git, "rev-parse", "--is-inside-work-tree"], cwd=source, capture_output=True, text=True)
    return result.returncode == 0 and result.stdout.strip() == "true"


def _walked(source: Path) -> Iterator[Path]:
    for folder, folders, files in os.walk(source):
        here = Path(folder)
        folders[:] = [name for name in folders if name not in SKIPPED]
        links = [name for name in folders if (here / name).is_symlink()]  # os.walk does not enter them
        for name in [*files, *links]:
            yield (here / name).relative_to(source)


def is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def chassis_links(source: Path, folders: list[Path]) -> list[tuple[Path, Path]]:
    """(place relative to SOURCE, folder): where the copy gets a link to each chassis folder: the folder's own place
    when it is in SOURCE; a link of SOURCE's own to it (as a copy has) when it is outside."""
    links = []
    root = Path(os.path.abspath(source))
    for folder in folders:
        if is_within(folder, root):
            links.append((folder.relative_to(root), folder))
        else:
            links += [
                (entry.relative_to(source), folder)
                for entry in sorted(source.iterdir())
                if entry.is_symlink() and entry.resolve() == folder.resolve()
            ]
    return links


def is_text(data: bytes) -> bool:
    if b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def ruff_configured(folder: Path) -> bool:
    """Whether `folder` configures ruff (without a configuration, ruff would format to its own defaults)."""
    pyproject = folder / "pyproject.toml"
    return (
        (folder / "ruff.toml").is_file()
        or (folder / ".ruff.toml").is_file()
        or (pyproject.is_file() and "[tool.ruff" in pyproject.read_text())
    )


def tidy(dest: Path, files: list[Path]) -> list[str] | None:
    """Sorts the imports of `files` (relative to `dest`) and formats them with ruff as the copy configures it: a
    name of another length, and another place in the alphabet, moves imports and lines. Returns what ruff still
    reports in them (a line the longer name made too long where ruff cannot wrap it: a comment, a string), or None
    when it cannot run: no ruff beside this Python or on the PATH, or no ruff configuration in the copy.

    Only the files the renaming changed, and only import order and format: the copy differs from its source in
    nothing else."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None or not ruff_configured(dest):
        return None
    if not files:
        return []
    names = [str(file) for file in files]

    def run(*arguments: str) -> str:
        command = [ruff, *arguments, "--no-cache", "--quiet", *names]
        return subprocess.run(command, cwd=dest, capture_output=True, text=True, check=False).stdout

    run("check", "--fix", "--select", "I")
    run("format")
    return [line for line in run("check", "--output-format", "concise").splitlines() if line.strip()]


@dataclass(frozen=True)
class Copied:
    files: int
    renamed_files: int
    tidied: int  # Python files ruff sorted and formatted (those the renaming changed)
    lint: list[str] | None  # what ruff still reports in them; None: not tidied (no ruff, or the copy configures none)
    chassis: list[Path]  # the folders the copy's requirements name by absolute path
    links: list[tuple[Path, Path]]  # (place in the copy, chassis folder)


def make_copy(source: Path, dest: Path, old_name: str, new_name: str) -> Copied:
    """Copies the service at `source` to `dest` (which must be absent or empty), renamed from `old_name` to
    `new_name` (both kebab case)."""
    for name, what in ((new_name, "NEW_NAME"), (old_name, "the source's name")):
        if not KEBAB.fullmatch(name):
            raise RefusalError(
                f"{what} {name!r} is not lowercase kebab case ([a-z][a-z0-9]*(-[a-z0-9]+)*, e.g. orders)"
            )
    if "-" in new_name and "-" not in old_name:
        raise RefusalError(
            f"{old_name!r} is one word, spelled the same in kebab and snake case (and in Camel and title case), so "
            f"where {new_name!r} goes as {new_name!r} and where as {Spellings.of(new_name).snake!r} is unknown; give "
            "a one-word NEW_NAME"
        )
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise RefusalError(f"{dest} exists and is not empty; give a new or empty folder")
    rename = renamer(Spellings.of(old_name), Spellings.of(new_name))
    requirements = local_requirements(source)
    chassis = sorted({requirement.folder for requirement in requirements})
    links = chassis_links(source, chassis)
    files = [
        path
        for path in listed_files(source)
        if not any(is_within(Path(os.path.abspath(source / path)), folder) for folder in chassis)
        and not any(is_within(path, place) for place, _ in links)
    ]
    targets = {path: Path(*(rename(part) for part in path.parts)) for path in files}
    if len(set(targets.values())) < len(targets):
        raise RefusalError("two files would get the same name in the copy")
    dest.mkdir(parents=True, exist_ok=True)
    edited = []  # the Python files whose text the renaming changed
    for path, target in targets.items():
        origin, copy = source / path, dest / target
        copy.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_symlink():
            os.symlink(rename(os.readlink(origin)), copy)
            continue
        data = origin.read_bytes()
        if is_text(data):
            original = data.decode("utf-8")
            text = rename(original)
            if text != original and target.suffix == ".py":
                edited.append(target)
            for requirement in requirements:
                if requirement.file == path:
                    text = requirement.rewritten(text)
            copy.write_bytes(text.encode("utf-8"))
        else:
            copy.write_bytes(data)
        shutil.copymode(origin, copy)
    for place, folder in links:
        (dest / place).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(folder.resolve(), dest / place, target_is_directory=True)
    lint = tidy(dest, edited)
    renamed = sum(path != target for path, target in targets.items())
    return Copied(len(targets), renamed, len(edited) if lint is not None else 0, lint, chassis, links)


def source_name(source: Path) -> str:
    name = context_info_name((source / "config.yml").read_text())
    if name is None:
        raise RefusalError(f"{source / 'config.yml'} has no context-info name; give the source's name with --from")
    return name


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """A mistake on the command line in one line, exit code 2 (argparse's own adds the usage lines)."""
        self.exit(2, f"{PROGRAM}: {message} (see --help)\n")


def parser() -> Parser:
    command = Parser(
        prog=f"python -m microservice_chassis.{PROGRAM}",
        description="Copy the service at SOURCE to DEST, every spelling of its name (kebab, snake, Camel, title) "
        "replaced by NEW_NAME's, in file contents and names. The chassis is not copied: the copy's requirements "
        "name it by its absolute path, and a link at its place points to it.",
    )
    command.add_argument("source", metavar="SOURCE", type=Path, help="the service to copy (its config.yml's folder)")
    command.add_argument("dest", metavar="DEST", type=Path, help="the copy's folder: new, or empty")
    command.add_argument("new_name", metavar="NEW_NAME", help="the copy's name in kebab case: orders, order-history")
    command.add_argument(
        "--from",
        dest="old_name",
        metavar="OLD_NAME",
        help="the source's name in kebab case (default: its config.yml's context-info name)",
    )
    return command


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    source: Path = arguments.source
    dest: Path = arguments.dest
    try:
        if not (source / "config.yml").is_file():
            raise RefusalError(f"{source} has no config.yml: not a service's folder")
        old_name: str = arguments.old_name or source_name(source)
        copied = make_copy(source, dest, old_name, arguments.new_name)
    except RefusalError as refusal:
        print(f"{PROGRAM}: {refusal}", file=sys.stderr)
        return 2
    except (OSError, subprocess.CalledProcessError) as failure:
        print(f"{PROGRAM}: {failure}", file=sys.stderr)
        return 1
    print(
        f"{PROGRAM}: {dest}: {copied.files} files of {source} ({old_name}) as {arguments.new_name}, "
        f"{copied.renamed_files} of them under a new name"
    )
    if copied.lint is None:
        print(
            f"{PROGRAM}: not formatted (no ruff here, or no ruff configuration in the copy): imports stand as renamed"
        )
    else:
        print(f"{PROGRAM}: the {copied.tidied} Python files the renaming changed: imports sorted, formatted by ruff")
        for line in copied.lint:
            print(f"{PROGRAM}: ruff still reports: {line}")
    for folder in copied.chassis:
        places = [str(place) for place, linked in copied.links if linked == folder]
        linked_as = f", linked as {', '.join(places)}" if places else ""
        print(f"{PROGRAM}: not copied: {folder}, which the copy's requirements name by its absolute path{linked_as}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
