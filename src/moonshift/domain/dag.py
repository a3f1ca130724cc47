"""Dependencies between migrations as a graph: cycles, trees and drawings. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

Graph = Mapping[str, Iterable[str]]  # migration -> the migrations it depends on


def find_cycle(graph: Graph) -> list[str] | None:
    """A dependency cycle as a path that ends where it starts (``[a, b, c, a]``), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def dependents(graph: Graph) -> dict[str, list[str]]:
    """migration -> the migrations that depend on it."""
    found: dict[str, list[str]] = {}
    for node, deps in graph.items():
        for dep in deps:
            found.setdefault(dep, []).append(node)
    return {k: sorted(v) for k, v in found.items()}


def levels(graph: Graph) -> dict[str, int]:
    """How deep each migration's dependencies go: 0 for one that depends on nothing (in the
    graph), else one more than its deepest dependency; a migration on a cycle (which apply
    refuses) counts as 0."""
    inside = {node: sorted({d for d in deps if d in graph}) for node, deps in graph.items()}
    waiting = {node: len(deps) for node, deps in inside.items()}
    children = dependents(inside)
    ready = sorted((node for node, count in waiting.items() if not count), reverse=True)
    found: dict[str, int] = {}
    while ready:
        node = ready.pop()
        found[node] = 1 + max((found[d] for d in inside[node]), default=-1)
        for child in children.get(node, []):
            waiting[child] -= 1
            if not waiting[child]:
                ready.append(child)
    return {node: found.get(node, 0) for node in graph}


def reachable(graph: Graph, start: str) -> set[str]:
    """Every node reached from ``start`` along the graph's edges (``start`` only if on a
    cycle)."""
    seen: set[str] = set()
    todo = list(graph.get(start, []))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, []))
    return seen


def tree_lines(graph: Graph, root: str, *, upstream: bool) -> list[str]:
    """An indented tree from ``root``: what it depends on (upstream) or what depends on it."""
    edges = {k: sorted(v) for k, v in graph.items()} if upstream else dependents(graph)
    lines: list[str] = []

    def walk(node: str, prefix: str, seen: frozenset[str]) -> None:
        children = edges.get(node, [])
        for i, child in enumerate(children):
            last = i == len(children) - 1
            lines.append(f"{prefix}{'└── ' if last else '├── '}{child}")
            if child not in seen:
                walk(child, prefix + ("    " if last else "│   "), seen | {child})

    lines.append(root)
    walk(root, "", frozenset({root}))
    return lines


def mermaid(graph: Graph) -> str:
    lines = ["graph LR"]
    lines += [f"    {dep} --> {node}" for node in sorted(graph) for dep in sorted(graph[node])]
    lines += [
        f"    {node}"
        for node in sorted(graph)
        if not list(graph[node]) and node not in dependents(graph)
    ]
    return "\n".join(lines)


def dot(graph: Graph) -> str:
    lines = ["digraph moonshift {", "    rankdir=LR;"]
    lines += [f'    "{node}";' for node in sorted(graph)]
    lines += [f'    "{dep}" -> "{node}";' for node in sorted(graph) for dep in sorted(graph[node])]
    return "\n".join([*lines, "}"])
