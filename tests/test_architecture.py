"""The map of docs/architecture.md, checked against the code.

Read from the source with `ast`, without importing anything: which module
imports which (a deferred import inside a function counts too), and how long
each module is. The rules:

- no import cycle between modules of `bot/`, `handlers/`, `storage/`, and none
  between their packages (`bot.core`, `bot.render`, `handlers`, ...);
- the layers point one way: `storage` knows nothing of `bot` and `handlers`;
  `bot.core` knows no Telegram, no rendering, no command line; `bot.render`
  knows no Telegram; `handlers` do not reach into the composition or the
  database session;
- `argparse` only in the command line (`bot/cli.py`);
- no module over 500 lines (the emulator's vendored `botapi.json` is data).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage")
MAX_LINES = 500
# a unit of work's session, or a session used directly
DATABASE_SESSION = re.compile(r"\buow\.session\b|\bsession\.(execute|scalars?|get|add|flush|delete)\(")


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]


def _modules() -> dict[str, Module]:
    found: dict[str, Module] = {}
    for top in PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            found[name] = Module(name, path, is_package)
    return found


MODULES = _modules()


def _imported_names(module: Module) -> Iterable[str]:
    """Every dotted name the module imports, external ones included."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.package.split(".")[: len(module.package.split(".")) - node.level + 1]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            yield origin
            yield from (f"{origin}.{alias.name}" for alias in node.names)


def _own(name: str) -> str | None:
    """The project's module a dotted name refers to (a name inside it counts as it)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _edges() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, module in MODULES.items():
        for imported in _imported_names(module):
            target = _own(imported)
            if target is not None and target != name:
                graph[name].add(target)
    return graph


GRAPH = _edges()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _external(prefixes: tuple[str, ...], modules: Iterable[Module]) -> list[str]:
    """ "module imports name" for every import of `modules` that starts with one of `prefixes`."""
    return sorted(
        f"{module.name} imports {name}"
        for module in modules
        for name in set(_imported_names(module))
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)
    )


def _in(package: str) -> list[Module]:
    return [m for m in MODULES.values() if m.name == package or m.name.startswith(package + ".")]


def test_the_map_is_read_from_the_real_tree() -> None:
    # guards the checks below against passing on an empty or mis-read tree
    assert {"bot.core.agenda", "bot.telegram.app", "handlers.common", "storage.uow"} <= MODULES.keys()
    assert "bot.core.people" in GRAPH["handlers.common"]


def test_no_module_imports_itself_round_about() -> None:
    assert _cycles(GRAPH) == []


def test_no_package_imports_itself_round_about() -> None:
    packages: dict[str, set[str]] = {}
    for name, targets in GRAPH.items():
        source = MODULES[name].package
        for target in targets:
            other = MODULES[target].package
            # a module importing its own package's parent is Python's import machinery, not a layer
            if other != source and not source.startswith(other + "."):
                packages.setdefault(source, set()).add(other)
    assert _cycles(packages) == []


def test_storage_knows_nothing_of_the_bot() -> None:
    assert _external(("bot", "handlers", "telegram"), _in("storage")) == []


def test_the_core_knows_no_telegram_no_rendering_and_no_command_line() -> None:
    forbidden = ("telegram", "bot.telegram", "bot.render", "bot.dev", "bot.cli", "handlers", "argparse")
    assert _external(forbidden, _in("bot.core")) == []


def test_rendering_knows_no_telegram() -> None:
    forbidden = ("telegram", "bot.telegram", "bot.dev", "bot.cli", "handlers", "argparse")
    assert _external(forbidden, _in("bot.render")) == []


def test_handlers_do_not_reach_into_the_composition_or_the_database() -> None:
    forbidden = ("bot.telegram", "bot.dev", "bot.cli", "sqlalchemy")
    assert _external(forbidden, _in("handlers")) == []
    sessions = [
        f"{m.name}:{number}"
        for m in _in("handlers")
        for number, line in enumerate(m.path.read_text(encoding="utf-8").splitlines(), 1)
        if DATABASE_SESSION.search(line)
    ]
    assert sessions == []


def test_mail_knows_no_telegram_and_no_composition() -> None:
    forbidden = ("telegram", "bot.telegram", "bot.dev", "bot.cli", "argparse")
    assert _external(forbidden, _in("bot.mail")) == []


def test_argparse_only_in_the_command_line() -> None:
    users = _external(("argparse",), MODULES.values())
    assert [u for u in users if not u.startswith(("bot.cli ", "bot.dev."))] == []


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_no_module_is_longer_than_500_lines(module: str) -> None:
    lines = len(MODULES[module].path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[module].path.relative_to(ROOT)} has {lines} lines"


def test_every_type_ignore_says_why() -> None:
    bare = [
        f"{m.path.relative_to(ROOT)}:{number}"
        for m in MODULES.values()
        for number, line in enumerate(m.path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"type: ignore(\[[^\]]*\])?\s*$", line)
    ]
    assert bare == [], "a `# type: ignore[...]` is followed by `# <the reason>`"
