"""The architecture holds: the core names no connector, and imports only downwards."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The demo runs the shipped sample (HubSpot → rules → Salesforce + HubSpot) against the
#: bundled sandbox, whose CLI writes that sample config: they may name the vendors.
ALLOWED = {"sync_agent/demo.py", "sync_agent/cli/demo.py", "sync_agent/cli/sandbox.py"}
VENDORS = re.compile(r"hubspot|salesforce", re.IGNORECASE)


def core_modules() -> list[Path]:
    return sorted(p for p in (ROOT / "sync_agent").rglob("*.py") if "defaults" not in p.parts)


def test_nothing_in_the_core_names_a_connector() -> None:
    """Connector knowledge lives in its package; the entry points are the only registry."""
    offenders = []
    for path in core_modules():
        rel = path.relative_to(ROOT).as_posix()
        if rel in ALLOWED:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if VENDORS.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert offenders == []


def imports_of(path: Path, modules: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """What ``path`` imports: ``from pkg import mod`` counts as importing ``pkg.mod`` when
    that is a module (as Python resolves it), else ``pkg``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & set(modules)
            found |= subs or {node.module}
    return found


def test_config_imports_nothing_above_it() -> None:
    above = ("sync_agent.engine", "sync_agent.scheduler", "sync_agent.cli", "sync_agent.audit",
             "sync_agent.rules")  # fmt: skip
    bad = {m for m in imports_of(ROOT / "sync_agent" / "config.py") if m.startswith(above)}
    assert bad == set()


def test_there_are_no_import_cycles() -> None:
    """Every import counts, lazy ones and TYPE_CHECKING ones too: a cycle hides a layering
    mistake that shows only at run time."""
    modules = {}
    for top in ("sync_agent", "connectors"):
        for path in (ROOT / top).rglob("*.py"):
            if "defaults" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    graph = {}
    for name, path in modules.items():
        edges = set()
        for target in imports_of(path, set(modules)):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.add(target)
        graph[name] = edges
    cycles = [c for c in _strongly_connected(graph) if len(c) > 1]
    assert cycles == []


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            out.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return out


def test_no_file_keeps_a_merge_conflict_marker() -> None:
    """A half-resolved merge must not land (one did, in a doc page)."""
    marker = re.compile(r"^(<{7} |>{7} |={7}$)", re.MULTILINE)
    offenders = []
    for folder in ("sync_agent", "connectors", "tests", "docs", "rules", "bench"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".py", ".md", ".toml", ".txt", ".json"} and path.is_file() \
                    and marker.search(path.read_text(encoding="utf-8", errors="replace")):
                offenders.append(path.relative_to(ROOT).as_posix())
    for name in ("README.md", "config.example.toml", "pyproject.toml", "Makefile"):
        if marker.search((ROOT / name).read_text(encoding="utf-8")):
            offenders.append(name)
    assert offenders == []
