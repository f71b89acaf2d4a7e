"""The package's layering, kept by tests rather than by convention (docs/architecture.md).

Each rule reads the source with `ast`, so imports inside functions (the lazy ones that keep
`--help` fast) count exactly like module-level ones.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "learnflow"
TERMINAL_LIBS = ("typer", "rich", "click")
MAX_MODULES_PER_FOLDER = 15


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@lru_cache(maxsize=1)
def modules() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in sorted(PACKAGE.rglob("*.py"))}


def imported(tree: ast.Module, name: str) -> set[str]:
    """Every module `name` imports, anywhere in its body; `from a import b` counts as a.b when a.b is a module."""
    known = modules()
    package = name if name in known and _is_package(name) else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for a in node.names:
                full = f"{base}.{a.name}"
                out.add(full if full in known else base)
    return out


def _is_package(name: str) -> bool:
    return (ROOT / name.replace(".", "/") / "__init__.py").exists()


def area(name: str) -> str:
    """learnflow.cli.ask -> cli; learnflow.errors -> errors."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {m for m in imported(tree, name) if m in known and m != name} for name, tree in known.items()}


def test_the_rules_see_the_whole_package():
    names = set(modules())
    assert {"learnflow.cli.app", "learnflow.db.store", "learnflow.ui.render", "learnflow.tutor.ask"} <= names
    # Lazy imports count: cli.ask imports the core only inside the command.
    assert "learnflow.tutor.ask" in imported(modules()["learnflow.cli.ask"], "learnflow.cli.ask")


@pytest.mark.parametrize("lib", TERMINAL_LIBS)
def test_only_cli_and_ui_import_terminal_libraries(lib):
    offenders = sorted(
        name
        for name, tree in modules().items()
        if area(name) not in ("cli", "ui") and any(m == lib or m.startswith(lib + ".") for m in imported(tree, name))
    )
    assert offenders == [], f"{lib} imported outside cli/ and ui/: {offenders}"


def test_only_cli_imports_ui():
    offenders = sorted(
        f"{name} -> {dep}" for name, deps in graph().items() for dep in deps if area(dep) == "ui" and area(name) not in ("cli", "ui")
    )
    assert offenders == []


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the groups of modules that import each other in a loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    group.append(top)
                    if top == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_between_modules():
    assert strongly_connected(graph()) == []


def test_no_import_cycles_between_areas():
    """cli -> ui -> the core areas -> db -> leaves: no area reaches back up."""
    edges: dict[str, set[str]] = {}
    for name, deps in graph().items():
        if name.count(".") >= 2 or _is_package(name):  # modules inside an area folder
            edges.setdefault(area(name), set()).update(area(d) for d in deps if area(d) != area(name) and _is_area(area(d)))
    edges = {a: d for a, d in edges.items() if _is_area(a)}
    assert strongly_connected(edges) == []


def _is_area(name: str) -> bool:
    return (PACKAGE / name).is_dir() and (PACKAGE / name / "__init__.py").exists()


SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|WITH|BEGIN|SAVEPOINT|RELEASE|ROLLBACK|VACUUM)\b")
STORE_INTERNALS = ("_write", "_insert", "_insert_many", "conn", "db")


def sql_strings(tree: ast.Module) -> list[str]:
    found = []
    parts_of_fstrings = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    for node in ast.walk(tree):
        if id(node) in parts_of_fstrings:
            continue  # read as part of its f-string below
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value):
            found.append(node.value[:60])
        elif isinstance(node, ast.JoinedStr):
            head = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            if SQL.match(head):
                found.append(head[:60])
    return found


def test_the_sql_finder_finds_sql():
    tree = ast.parse('q = "SELECT 1"\nr = f"DELETE FROM t WHERE id IN ({marks})"\ns = "Selected skills"')
    assert sql_strings(tree) == ["SELECT 1", "DELETE FROM t WHERE id IN ()"]


def test_sql_lives_in_db():
    offenders = {name: sql_strings(tree) for name, tree in modules().items() if area(name) != "db" and sql_strings(tree)}
    assert offenders == {}


@pytest.mark.parametrize("lib", ["sqlite3", "sqlite_utils"])
def test_only_db_opens_sqlite(lib):
    offenders = sorted(name for name, tree in modules().items() if area(name) != "db" and lib in imported(tree, name))
    assert offenders == []


def test_only_db_reaches_into_the_store():
    """Outside db/, the store is used through named functions: no transactions, connections or SQL by hand."""
    offenders = sorted(
        f"{name}: .{node.attr}"
        for name, tree in modules().items()
        if area(name) != "db"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in STORE_INTERNALS and _on_a_store(node)
    )
    assert offenders == []


def _on_a_store(node: ast.Attribute) -> bool:
    """`store.x`, `self.store.x`, `session.store.x`, `Store().x`: the receiver is a Store by name."""
    value = node.value
    if isinstance(value, ast.Call):
        value = value.func
    label = value.attr if isinstance(value, ast.Attribute) else getattr(value, "id", "")
    return label.lower().endswith("store")


def test_no_folder_holds_more_than_fifteen_modules():
    crowded = {
        str(folder.relative_to(ROOT)): n
        for folder in [PACKAGE, *(p for p in PACKAGE.rglob("*") if p.is_dir() and p.name != "__pycache__")]
        if (n := len([p for p in folder.glob("*.py") if p.name != "__init__.py"])) > MAX_MODULES_PER_FOLDER
    }
    assert crowded == {}


def test_the_architecture_doc_names_every_area():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [a for a in sorted(p.name for p in PACKAGE.iterdir() if _is_area(p.name)) if f"`{a}/`" not in doc]
    assert missing == []
