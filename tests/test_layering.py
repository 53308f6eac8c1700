"""The package imports in one direction: no module imports itself back through others, and no
package imports one of a higher layer (README, Layout).

Every `import` of every module counts, those inside functions too: an import deferred to keep
`--help` fast is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

from tests.conftest import ROOT

PACKAGE = "bibench_deploy"
# Top to bottom; a package may import its own layer and those below. Modules directly under
# bibench_deploy/ (errors, manifest, registry, model_dir, reporter, tracing, ...) form the bottom
# layer, except the entry point beside `cli`.
LAYERS = (
    ("cli", "__main__"),
    ("stages", "sources"),
    ("lce", "dabnn", "training", "deploy_graph", "reports", "fleet"),
    ("algorithms", "architectures", "data", "complexity", "emulation"),
)
TOP_LEVEL = len(LAYERS)
# Packages of one layer that stay independent of each other.
INDEPENDENT = (("fleet", "reports"),)


def module_names(root: Path = ROOT / PACKAGE) -> dict[str, Path]:
    """Dotted name -> file of every module of the package (`pkg/__init__.py` is `pkg`)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imported(node: ast.AST, module: str, is_package: bool, modules: set[str]) -> list[str]:
    """The package's modules that one import statement imports."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = module.split(".")
            anchor = anchor if is_package else anchor[:-1]
            anchor = anchor[:len(anchor) - (node.level - 1)]
            base = ".".join(anchor + ([base] if base else []))
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                 for alias in node.names]
    else:
        return []
    return [_known(name, modules) for name in names if _known(name, modules)]


def _known(name: str, modules: set[str]) -> Optional[str]:
    """`name` or its nearest enclosing module of the package (`a.b.c` of `a.b` -> `a.b`)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    known = set(modules)
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"
        targets = {target for node in ast.walk(tree)
                   for target in _imported(node, name, is_package, known)}
        graph[name] = {target for target in targets if not _encloses(target, name)}
    return graph


def _encloses(package: str, module: str) -> bool:
    """`module` is `package` or inside it. Python initialises a package before its modules, so
    a module's import of its own package (`from bibench_deploy.cli import app`, a registry)
    reads names already defined and orders nothing."""
    return module == package or module.startswith(package + ".")


def find_cycle(graph: dict[str, set[str]]) -> Optional[list[str]]:
    """One import circle as [a, b, ..., a], or None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> Optional[list[str]]:
        path.append(node)
        on_path.add(node)
        for target in sorted(graph.get(node, ())):
            if target in on_path:
                return path[path.index(target):] + [target]
            if target not in done:
                found = visit(target)
                if found:
                    return found
        on_path.discard(node)
        path.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            found = visit(start)
            if found:
                return found
    return None


def room(module: str) -> str:
    """The package (or top-level module) a module belongs to: `bibench_deploy.lce.audit` -> lce."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer(module: str, packages: set[str]) -> int:
    name = room(module)
    for index, rooms in enumerate(LAYERS):
        if name in rooms:
            return index
    assert name not in packages, f"package {name}/ is in no layer of LAYERS: place it"
    return TOP_LEVEL


def packages(modules: dict[str, Path]) -> set[str]:
    return {room(name) for name, path in modules.items()
            if path.name == "__init__.py" and name.count(".") == 1}


def test_no_import_cycle():
    cycle = find_cycle(import_graph(module_names()))
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_every_package_has_a_layer():
    modules = module_names()
    unplaced = sorted(packages(modules) - {name for rooms in LAYERS for name in rooms})
    assert not unplaced, f"packages in no layer of LAYERS: {unplaced}"


def test_no_import_from_a_lower_layer_to_a_higher_one():
    modules = module_names()
    graph, rooms = import_graph(modules), packages(modules)
    upward = sorted(f"{source} -> {target}" for source, targets in graph.items()
                    for target in targets if layer(target, rooms) < layer(source, rooms))
    assert not upward, "imports from a lower layer to a higher one:\n" + "\n".join(upward)


def test_independent_packages_do_not_import_each_other():
    graph = import_graph(module_names())
    crossing = sorted(f"{source} -> {target}" for source, targets in graph.items()
                      for target in targets for pair in INDEPENDENT
                      if {room(source), room(target)} == set(pair))
    assert not crossing, "\n".join(crossing)


def test_the_checks_see_a_circle_and_a_deferred_import(tmp_path):
    package = tmp_path / PACKAGE
    (package / "lce").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "lce" / "__init__.py").write_text("")
    (package / "lce" / "a.py").write_text("from bibench_deploy.lce import b\n")
    (package / "lce" / "b.py").write_text("def f():\n    from . import a\n")
    (package / "errors.py").write_text("def f():\n    import bibench_deploy.lce.a\n")
    modules = module_names(package)
    graph = import_graph(modules)
    assert find_cycle(graph) == [f"{PACKAGE}.lce.a", f"{PACKAGE}.lce.b", f"{PACKAGE}.lce.a"]
    assert layer(f"{PACKAGE}.errors", packages(modules)) > layer(f"{PACKAGE}.lce.a", {"lce"})
    assert f"{PACKAGE}.lce.a" in graph[f"{PACKAGE}.errors"]
