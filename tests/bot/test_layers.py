"""Imports go downwards only: the domain sees nothing above it, and services never reach up into
the command layer or the composition root (not even inside a function, where a cycle would hide).
No two modules import each other, however indirectly, and none is over 500 lines. The layers
themselves are import-linter's contracts in pyproject.toml (`lint-imports`)."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]


def imports_of(package: str) -> list[tuple[str, str]]:
    """(file, module) for every absolute import in a package, at the top or inside a function."""
    found: list[tuple[str, str]] = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            found.extend((str(path.relative_to(ROOT)), name) for name in names)
    return found


def test_the_domain_imports_only_itself_and_the_errors() -> None:
    upward = [
        (path, name)
        for path, name in imports_of("bot/domain")
        if name.startswith("bot.") and not name.startswith(("bot.domain", "bot.errors"))
    ]
    assert upward == []


def test_services_never_import_commands_or_what_sits_above_them() -> None:
    above = ("bot.commands", "bot.app", "bot.cli", "bot.scheduler", "integrations")
    upward = [(path, name) for path, name in imports_of("bot/services") if name.startswith(above)]
    assert upward == []


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = stack[stack.index(module) :]
            del stack[stack.index(module) :]
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def assert_no_cycle(graph: grimp.ImportGraph) -> None:
    found = cycles(graph)
    chains = [graph.find_shortest_chain(group[0], group[1], as_packages=False) for group in found]
    assert found == [], f"import cycles: {found}; e.g. {chains}"


def test_no_two_modules_of_the_core_import_each_other_not_even_inside_functions() -> None:
    # grimp sees every import: at the top, inside a function, and under TYPE_CHECKING.
    assert_no_cycle(grimp.build_graph("bot", cache_dir=None))


def test_no_two_modules_import_each_other_at_run_time_across_core_and_adapters() -> None:
    graph = grimp.build_graph(
        "bot", "integrations", cache_dir=None, exclude_type_checking_imports=True
    )
    assert_no_cycle(graph)


def test_a_cycle_is_found_when_there_is_one() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in [("a.b", "a.c"), ("a.c", "a.d"), ("a.d", "a.b"), ("a.d", "a.e")]:
        graph.add_import(importer=importer, imported=imported)
    assert cycles(graph) == [["a.b", "a.c", "a.d"]]


# Where an import inside a function is worth it: the command line answers --help without
# loading the bot, and the model client is loaded only when the settings ask for it.
LAZY_ALLOWED = {"bot/cli.py", "bot/summarise/factory.py"}


def test_first_party_imports_sit_at_the_top_outside_the_command_line() -> None:
    lazy = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            for inner in ast.walk(node):
                if inner is node or not isinstance(inner, ast.Import | ast.ImportFrom):
                    continue
                if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                    continue
                modules = (
                    [alias.name for alias in inner.names]
                    if isinstance(inner, ast.Import)
                    else [inner.module or ""]
                )
                if any(m.split(".")[0] in ("bot", "integrations") for m in modules):
                    lazy.append((name, inner.lineno))
    assert [(name, line) for name, line in lazy if name not in LAZY_ALLOWED] == []


MAX_LINES = 500


def test_no_module_is_over_500_lines() -> None:
    long = [
        (str(path.relative_to(ROOT)), lines)
        for package in ("bot", "integrations")
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert long == []
