"""The dependency graph as a picture: migrations in columns by how deep their dependencies
go (a migration stands right of everything it depends on), coloured by the state of their
latest run, drawn as SVG on the server; each node links to its migration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from moonshift.domain import dag
from moonshift.web.rendering import PageRoute, page
from moonshift.web.session import App, Reading

router = APIRouter(include_in_schema=False, route_class=PageRoute)
COLUMN, ROW, WIDTH, HEIGHT, MARGIN = 240, 34, 200, 24, 12


@dataclass(frozen=True)
class Node:
    id: str
    status: str
    x: int
    y: int


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    path: str  # SVG path data, from the dependency to its dependent


@dataclass(frozen=True)
class Drawing:
    nodes: list[Node]
    edges: list[Edge]
    width: int
    height: int


def layout(depends_on: Mapping[str, list[str]], states: Mapping[str, str]) -> Drawing:
    """Columns by depth; within a column, ordered near the rows of their dependencies."""
    depth = dag.levels(dict(depends_on))
    columns: dict[int, list[str]] = {}
    for node in sorted(depth):
        columns.setdefault(depth[node], []).append(node)
    row: dict[str, float] = {}
    for level in sorted(columns):

        def near(node: str) -> tuple[float, str]:
            parents = [row[d] for d in depends_on.get(node, []) if d in row]
            return (sum(parents) / len(parents) if parents else -1.0, node)

        for index, node in enumerate(sorted(columns[level], key=near)):
            row[node] = index
    nodes = [
        Node(n, states.get(n, "idle"), MARGIN + depth[n] * COLUMN, MARGIN + int(row[n]) * ROW)
        for n in sorted(depth)
    ]
    at = {n.id: n for n in nodes}
    edges = [
        Edge(dep, n.id, _curve(at[dep], n))
        for n in nodes
        for dep in depends_on.get(n.id, [])
        if dep in at
    ]
    width = MARGIN * 2 + (max(depth.values(), default=0)) * COLUMN + WIDTH
    height = MARGIN * 2 + max((len(c) for c in columns.values()), default=0) * ROW
    return Drawing(nodes, edges, width, height)


def _curve(source: Node, target: Node) -> str:
    x1, y1 = source.x + WIDTH, source.y + HEIGHT // 2
    x2, y2 = target.x, target.y + HEIGHT // 2
    bend = (x2 - x1) // 2
    return f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"


def around(depends_on: Mapping[str, list[str]], focus: str) -> dict[str, list[str]]:
    """The part of the graph ``focus`` belongs to: what it needs and what needs it."""
    graph = dict(depends_on)
    keep = {focus} | dag.reachable(graph, focus) | dag.reachable(dag.dependents(graph), focus)
    return {n: [d for d in depends_on.get(n, []) if d in keep] for n in keep}


@router.get("/graph")
def graph(
    request: Request,
    app: App,
    who: Reading,
    focus: Annotated[str | None, Query(max_length=63)] = None,
) -> Response:
    """Every migration and its dependencies (``focus``: only one migration's part)."""
    edges = app.migrations.dependencies(focus).depends_on
    if focus:
        edges = around(edges, focus)
    states = {m.id: m.status for m in app.migrations.list() if m.id in edges}
    drawing = layout(edges, states)
    return page(
        request,
        "graph.html",
        who,
        drawing=drawing,
        focus=focus,
        depends_on=edges,
        states=sorted(set(states.values())),
        box={"width": WIDTH, "height": HEIGHT},
    )
