"""The package's shape: no import cycles inside rag/ (imports inside functions included), and the product
never imports the tools beside it (rag.eval, rag.training) except through the command line."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "rag"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str]) -> set[str]:
    """The rag modules a file imports, anywhere in it; `from . import x` counts as the module x."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            targets = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t in modules and t != name}
    return found


def graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imports(p, modules) for p in paths}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle once, as the path that closes it (a depth-first search for back edges)."""
    found, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue  # a package and its own submodules (re-exports in __init__)
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def test_the_cycle_finder_finds_a_planted_cycle():
    edges = {"rag.a": {"rag.b"}, "rag.b": {"rag.c"}, "rag.c": {"rag.a"}, "rag.d": {"rag.a"}}
    assert cycles(edges) == [["rag.a", "rag.b", "rag.c", "rag.a"]]
    assert cycles({"rag.x": {"rag.x.y"}, "rag.x.y": {"rag.x"}}) == []


def test_rag_has_no_import_cycles():
    assert cycles(graph()) == []


def test_the_product_never_imports_the_evaluation_or_training_tools():
    tools = ("rag.eval", "rag.training")
    offenders = {m: sorted(t for t in targets if t.startswith(tools))
                 for m, targets in graph().items() if not m.startswith(tools) and m != "rag.cli"}
    assert {m: t for m, t in offenders.items() if t} == {}


def test_only_rag_config_reads_the_environment():
    readers = [module_name(p) for p in sorted(PACKAGE.rglob("*.py"))
               if "os.environ.get(" in p.read_text(encoding="utf-8") or "os.getenv(" in p.read_text(encoding="utf-8")]
    assert readers == ["rag.config"]
