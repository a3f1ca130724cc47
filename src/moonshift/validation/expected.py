"""What the target should hold, from the copy's plan: its foreign keys (mapped from the
source's), shared by the structural and referential perspectives."""

from __future__ import annotations

from dataclasses import dataclass

from moonshift.connectors.base import Schema
from moonshift.copy.plan import CopyPlan


@dataclass(frozen=True)
class Reference:
    """A foreign key on the target: child columns -> parent columns."""

    table: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    name: str | None = None

    @property
    def shape(self) -> tuple[str, tuple[str, ...], str, tuple[str, ...]]:
        return self.table, self.columns, self.parent, self.parent_columns

    def __str__(self) -> str:
        label = self.name or "foreign key"
        return (
            f"{label} {self.table} ({', '.join(self.columns)}) -> "
            f"{self.parent} ({', '.join(self.parent_columns)})"
        )


def source_references(plan: CopyPlan, source: Schema) -> list[Reference]:
    """The source's foreign keys between copied tables, in the target's names."""
    by_source = {t.source: t for t in plan.tables}
    found = []
    for t in plan.tables:
        names = {c.source: c.target for c in t.columns if c.source}
        for fk in source.tables[t.source].foreign_keys:
            parent = by_source.get(fk.referred_table)
            if parent is None:
                continue
            theirs = {c.source: c.target for c in parent.columns if c.source}
            if all(c in names for c in fk.columns) and all(
                c in theirs for c in fk.referred_columns
            ):
                found.append(
                    Reference(
                        t.target,
                        tuple(names[c] for c in fk.columns),
                        parent.target,
                        tuple(theirs[c] for c in fk.referred_columns),
                        fk.name,
                    )
                )
    return found


def target_references(plan: CopyPlan, target: Schema) -> list[Reference]:
    """The target's own foreign keys on the copied tables."""
    return [
        Reference(t.target, fk.columns, fk.referred_table, fk.referred_columns, fk.name)
        for t in plan.tables
        if t.target in target.tables
        for fk in target.tables[t.target].foreign_keys
    ]
