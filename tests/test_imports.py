"""The library is layered: no module imports one that imports it back, even for type hints only.

A cycle makes the order of imports matter, hides which module owns an idea, and invites
the workaround of an import inside a function. So every leafdl module's imports are read
with ``ast`` (``if TYPE_CHECKING:`` ones included), and the test fails on any cycle and on
any leafdl import inside a function, except in the command line's handlers, which import
their sub-command's modules lazily so that ``leafdl --help`` answers at once, and in the
set-up check, which must work where torch is not installed yet.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import leafdl

PACKAGE = Path(leafdl.__file__).parent
# Where an import inside a function is the point: the command's handlers (``leafdl --help``
# must not wait for torch) and the set-up check (it must run, and say so, where torch is missing).
LAZY_IMPORTS_ALLOWED = {"leafdl.cli", "leafdl.course.envcheck"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, ast.Module]:
    return {module_name(path): ast.parse(path.read_text(encoding="utf-8")) for path in sorted(PACKAGE.rglob("*.py"))}


def imported(node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The leafdl modules an import statement loads (``from leafdl import x`` loads leafdl.x if it is one)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in known}
    if node.level or not node.module:
        return set()
    names = {f"{node.module}.{alias.name}" for alias in node.names} & known
    return names or ({node.module} & known)


def import_graph() -> dict[str, set[str]]:
    """Each module and the leafdl modules it imports (the package itself, ``leafdl``, only holds the version)."""
    trees = modules()
    known = set(trees)
    graph = {}
    for name, tree in trees.items():
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets |= imported(node, known)
        graph[name] = targets - {name, "leafdl"}
    return graph


def imports_inside_functions() -> list[str]:
    found = []
    for name, tree in modules().items():
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and imported(node, set(modules()) | {"leafdl"}):
                    found.append(f"{name}.{function.name} (line {node.lineno})")
    return found


def layers(graph: dict[str, set[str]]) -> list[list[str]]:
    """The modules floor by floor: each imports only modules on the floors below it."""
    sorter = TopologicalSorter(graph)
    sorter.prepare()
    floors = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        floors.append(ready)
        sorter.done(*ready)
    return floors


def test_the_package_has_no_import_cycle():
    try:
        floors = layers(import_graph())
    except CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None
    assert floors[0][0] == "leafdl.errors" or "leafdl.errors" in floors[0]


def test_no_leafdl_import_hides_inside_a_function():
    lazy = [where for where in imports_inside_functions() if where.rsplit(".", 1)[0] not in LAZY_IMPORTS_ALLOWED]
    assert lazy == []


def test_the_check_finds_a_type_only_cycle(tmp_path, monkeypatch):
    """The checks themselves can fail: a cycle through `if TYPE_CHECKING:` is seen."""
    fake = tmp_path / "leafdl"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from leafdl.b import B\n")
    (fake / "b.py").write_text("from leafdl.a import A\n\ndef f():\n    from leafdl import a\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    graph = import_graph()
    assert graph["leafdl.a"] == {"leafdl.b"} and graph["leafdl.b"] == {"leafdl.a"}
    try:
        layers(graph)
    except CycleError:
        pass
    else:
        raise AssertionError("the cycle a -> b -> a was not found")
    assert imports_inside_functions() == ["leafdl.b.f (line 4)"]


if __name__ == "__main__":   # print the floors, bottom first: python tests/test_imports.py
    for number, floor in enumerate(layers(import_graph())):
        print(number, ", ".join(name.removeprefix("leafdl.") for name in floor))
