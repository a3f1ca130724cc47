"""In which order to load tables: parents before children. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from moonshift.connectors.base import Table


@dataclass(frozen=True)
class LoadOrder:
    tables: tuple[str, ...]  # parents first
    deferred: tuple[tuple[str, str], ...]  # (child, parent) foreign keys to create after the load


def load_order(tables: Iterable[Table]) -> LoadOrder:
    """Parents first (a table another inherits from, too). Foreign keys that close a cycle
    (or point at a table outside the set) cannot be honoured by the order: they are returned
    as ``deferred``, to be created after the load. Self-references never need deferring: a
    table's rows load in key order."""
    by_name = {t.name: t for t in tables}
    parents = {
        name: {
            parent
            for parent in (*(fk.referred_table for fk in t.foreign_keys), *t.inherits)
            if parent in by_name and parent != name
        }
        for name, t in by_name.items()
    }
    order: list[str] = []
    deferred: list[tuple[str, str]] = []
    done: set[str] = set()
    remaining = dict(parents)
    while remaining:
        ready = sorted(n for n, ps in remaining.items() if ps <= done)
        if not ready:  # a cycle: break it at the smallest name, deferring its open edges
            name = min(remaining)
            deferred += sorted((name, p) for p in remaining[name] - done)
            ready = [name]
        for name in ready:
            order.append(name)
            done.add(name)
            del remaining[name]
    return LoadOrder(tuple(order), tuple(deferred))
