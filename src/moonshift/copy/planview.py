"""A plan as every face shows it: JSON-ready, the same for the CLI's tables and ``--json``."""

from __future__ import annotations

from typing import Any

from moonshift.copy.plan import CopyPlan, TablePlan


def plan_view(plan: CopyPlan) -> dict[str, Any]:
    before = {id(s) for s in plan.before}
    return {
        "tables": [_table(t, before) for t in plan.tables],
        "types": [{"name": s.name, "sql": s.sql} for s in plan.before if s.kind == "type"],
        "errors": [str(i) for i in plan.errors],
        "warnings": [str(i) for i in plan.warnings],
        "problems": [
            {"table": i.table, "column": i.column, "message": i.message, "refused": i.fatal}
            for i in plan.issues
        ],
    }


def _table(t: TablePlan, before: set[int]) -> dict[str, Any]:
    return {
        "source": t.source,
        "target": t.target,
        "rows": t.rows,
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


def how(t: TablePlan) -> str:
    if t.binary:
        return f"COPY {t.copy_format}, streamed"
    return "batches" if t.key else "one transaction (no key)"
