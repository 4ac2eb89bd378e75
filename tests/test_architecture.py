"""The package's shape (docs/architecture.md): no import cycles, function-level imports
included; stages import only downwards; shared modules import no stage.

Imports are read from the source with ``ast`` (every ``import`` statement, wherever it
stands, ``TYPE_CHECKING`` blocks included), so an import hidden in a function counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "pieflow"
STAGES = ("data", "models", "train", "prune", "predict", "diff", "influence", "imports",
          "llm", "analysis")
# The config's view for the rules and its checks sit above the stages (config_errors, the
# messages and the schema, is a shared module below them all).
ABOVE_STAGES = ("config", "config_checks", "compare")


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _target(name: str, modules: dict[str, Path]) -> str | None:
    """The module a dotted name resolves to (``pieflow.a.b.f`` -> ``pieflow.a.b``)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    """module -> the pieflow modules it imports (anywhere in its source)."""
    modules = module_names()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                wanted = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                wanted = [f"{base}.{alias.name}" for alias in node.names] + [base]
            else:
                continue
            for dotted in wanted:
                target = _target(dotted, modules) if dotted.startswith("pieflow") else None
                if target and target != name and target != "pieflow":
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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


def group(module: str) -> str:
    """The stage a module belongs to, or its own name for a shared top-level module."""
    return module.split(".")[1] if module.count(".") else module


def test_the_graph_reader_sees_function_level_imports(tmp_path):
    """The checks below are only as good as the reader: it must see every kind of import."""
    graph = import_graph()
    assert "pieflow.models.forward" in graph["pieflow.train.loop"]
    # analysis' token counts import the tokenizer inside a function
    assert any(group(target) == "models" for target in graph["pieflow.analysis.job"])


def test_no_import_cycles_between_modules():
    assert cycles(import_graph()) == []


def test_stages_import_only_downwards():
    stage_graph: dict[str, set[str]] = {stage: set() for stage in STAGES}
    for module, targets in import_graph().items():
        if group(module) in STAGES:
            stage_graph[group(module)] |= {group(t) for t in targets
                                           if group(t) in STAGES and group(t) != group(module)}
    assert cycles(stage_graph) == [], stage_graph


def test_shared_modules_import_no_stage_and_stages_not_the_config():
    wrong = []
    for module, targets in import_graph().items():
        kind = group(module)
        for target in targets:
            if kind not in STAGES and kind not in ABOVE_STAGES and group(target) in STAGES:
                wrong.append(f"shared {module} imports stage module {target}")
            if kind in STAGES and group(target) in ABOVE_STAGES:
                wrong.append(f"stage module {module} imports {target}")
    assert wrong == []
