"""A copy's plan as plain JSON-ready data: what a stored plan keeps and its digest covers.

``mappings`` has the shape of the plan view (``app.views.CopyPlan``) without the row counts,
which change by themselves and are kept apart (``rows``); ``schema`` holds both sides as
analysed, for the tables the copy reads and writes; ``dag`` the load order and the
foreign-key edges between the copied tables.
"""

from __future__ import annotations

from typing import Any

from moonshift.connectors.base import Schema, Table
from moonshift.copy.plan import CopyPlan, TablePlan


def describe(plan: CopyPlan, source: Schema, target: Schema) -> dict[str, Any]:
    copied = {t.source for t in plan.tables}
    return {
        "schema": {
            "source": {t.source: table_shape(source.tables[t.source]) for t in plan.tables},
            "target": {
                t.target: table_shape(target.tables[t.target])
                for t in plan.tables
                if t.target in target.tables
            },
        },
        "mappings": mappings(plan),
        "rows": {t.source: t.rows for t in plan.tables},
        "dag": {
            "tables": [t.source for t in plan.tables],
            "edges": sorted(
                [t.source, fk.referred_table]
                for t in plan.tables
                for fk in source.tables[t.source].foreign_keys
                if fk.referred_table in copied and fk.referred_table != t.source
            ),
        },
    }


def table_shape(table: Table) -> dict[str, Any]:
    return {
        "columns": [[c.name, c.type, c.nullable] for c in table.columns],
        "key": list(table.key or ()),
        "foreign_keys": [
            [list(fk.columns), fk.referred_table, list(fk.referred_columns)]
            for fk in table.foreign_keys
        ],
        "indexes": [[i.name, [c or "" for c in i.columns], i.unique] for i in table.indexes],
    }


def mappings(plan: CopyPlan) -> dict[str, Any]:
    """The plan view's fields, every table's ``rows`` left out."""
    before = {id(s) for s in plan.before}
    return {
        "tables": [
            {
                "source": t.source,
                "target": t.target,
                "key": list(t.key),
                "create": t.create,
                "binary": t.binary,
                "how": how(t),
                "columns": [
                    {
                        "source": c.source,
                        "source_type": c.source_spelled,
                        "target": c.target,
                        "target_type": c.target_spelled,
                        "conversion": c.conversion,
                        "lossy": c.lossy,
                        "written": c.written,
                        "generated": c.generated,
                    }
                    for c in t.columns
                ],
                "objects": [
                    {
                        "kind": s.kind,
                        "name": s.name,
                        "when": "before the rows" if id(s) in before else "after the rows",
                    }
                    for s in t.objects
                ],
                "notes": list(t.notes),
            }
            for t in plan.tables
        ],
        "types": [s.name for s in plan.before if s.kind == "type"],
        "errors": [str(i) for i in plan.errors],
        "warnings": [str(i) for i in plan.warnings],
        "problems": [
            {"table": i.table, "column": i.column, "message": i.message, "refused": i.fatal}
            for i in plan.issues
        ],
    }


def with_rows(mapped: dict[str, Any], rows: dict[str, int]) -> dict[str, Any]:
    """``mappings`` with each table's row count put back: the plan view's shape."""
    tables = [{**t, "rows": rows.get(t["source"], 0)} for t in mapped.get("tables", [])]
    return {**mapped, "tables": tables}


def how(t: TablePlan) -> str:
    if t.binary:
        return f"COPY {t.copy_format}, streamed"
    if t.csv is not None:
        return t.csv.how
    return "batches" if t.key else "one transaction (no key)"
