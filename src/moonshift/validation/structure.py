"""The structural perspective: the target's schema against the plan of the copy.

The plan is made again as if the target were empty, so it lists every object the copy
creates: tables and their columns with their mapped types, the primary key, unique
constraints, indexes, checks, partitions, generated columns, sequences and types; the
foreign keys are the source's between copied tables, in the target's names. Each one the
target lacks, or holds otherwise (another type, a column no longer generated), is a
divergence; so is a column the target has and the plan does not. With
``copy.create_target: never`` the tables are the target's own: only their columns count."""

from __future__ import annotations

from collections import Counter

from moonshift.connectors.base import Column, Connector, Schema, Table
from moonshift.copy.plan import ColumnPlan, Step, TablePlan
from moonshift.domain.validation import CheckResult, Divergence, Findings
from moonshift.validation.expected import source_references
from moonshift.validation.subject import Subject

# what a type is compared by, once each side's spelling is read
_TYPE_FIELDS = ("family", "bits", "unsigned", "precision", "scale", "length")


class Structural:
    name = "structural"

    def run(self, subject: Subject) -> CheckResult:
        findings = Findings(subject.limit)
        target = subject.target.read_schema()
        counts = Counter[str]()
        for plan in subject.expected.tables:
            table = target.tables.get(plan.target)
            if table is None:
                findings.add(Divergence(table=plan.target, kind="missing", what="no such table"))
                continue
            counts["tables"] += 1
            counts["columns"] += self._columns(subject.target, plan, table, findings)
            if subject.creates:
                counts["objects"] += self._objects(plan, table, target, findings)
        if subject.creates:
            counts["foreign_keys"] += self._foreign_keys(subject, target, findings)
        summary = ", ".join(f"{n} {what}" for what, n in counts.items()) or "nothing to compare"
        return findings.result(self.name, f"{summary} compared", dict(counts))

    def _columns(self, target: Connector, plan: TablePlan, table: Table, findings: Findings) -> int:
        for c in plan.columns:
            if not table.has_column(c.target):
                findings.add(
                    Divergence(table=plan.target, kind="missing", what=f"column {c.target}")
                )
                continue
            actual = table.column(c.target)
            problem = _column_problem(target, c, actual)
            if problem:
                findings.add(
                    Divergence(
                        table=plan.target,
                        kind="changed",
                        what=f"column {c.target}: {problem}",
                        source={"type": c.target_spelled, "generated": c.generated},
                        target={"type": actual.type, "generated": actual.generated},
                    )
                )
        planned = {c.target for c in plan.columns}
        for actual in table.columns:
            if actual.name not in planned:
                findings.add(
                    Divergence(
                        table=plan.target, kind="extra", what=f"column {actual.name} is not planned"
                    )
                )
        return len(plan.columns)

    def _objects(self, plan: TablePlan, table: Table, target: Schema, findings: Findings) -> int:
        compared = 0
        for step in plan.objects:
            present = _present(step, table, target)
            if present is None:
                continue
            compared += 1
            if not present:
                findings.add(
                    Divergence(table=plan.target, kind="missing", what=f"{step.kind} {step.name}")
                )
        return compared

    def _foreign_keys(self, subject: Subject, target: Schema, findings: Findings) -> int:
        source = subject.source.read_schema()
        wanted = source_references(subject.expected, source)
        for ref in wanted:
            child = target.tables.get(ref.table)
            if child is None:
                continue
            shapes = {
                (ref.table, fk.columns, fk.referred_table, fk.referred_columns)
                for fk in child.foreign_keys
            }
            if ref.shape not in shapes:
                findings.add(Divergence(table=ref.table, kind="missing", what=str(ref)))
        return len(wanted)


def _present(step: Step, table: Table, target: Schema) -> bool | None:
    """Whether the target holds what a step of the plan creates; None: not compared here
    (the table itself, numbering, and foreign keys, compared by their shape)."""
    kind, name = step.kind, step.name
    if kind == "primary key":
        return bool(table.primary_key)
    if kind in ("index", "unique"):
        return any(i.name == name for i in table.indexes) or (
            kind == "unique"
            and any(name == f"{table.name}_{'_'.join(u)}" for u in table.unique_keys)
        )
    if kind == "check":
        return any(c.name == name for c in table.checks)
    if kind == "partition":
        found = target.tables.get(name)
        return found is not None and found.partition_of is not None
    if kind == "sequence":
        return name in target.sequences
    if kind == "type":
        return name in target.types
    return None


def _column_problem(target: Connector, planned: ColumnPlan, actual: Column) -> str | None:
    if planned.generated is not None and actual.generated is None:
        return "is no longer generated"
    if planned.generated is None and actual.generated is not None:
        return "is generated, the plan writes it"
    want, got = _read_type(target, planned.target_spelled), _read_type(target, actual.type)
    if want is None or got is None:
        same = _spelled(planned.target_spelled) == _spelled(actual.type)
    else:
        same = all(getattr(want, f) == getattr(got, f) for f in _TYPE_FIELDS)
    return None if same else f"type {actual.type}, planned {planned.target_spelled}"


def _read_type(connector: Connector, spelled: str) -> object | None:
    try:
        return connector.parse_type(Column("-", spelled, True))
    except Exception:  # a type of its own (an enum, a domain): compared by its spelling
        return None


def _spelled(text: str) -> str:
    return "".join(text.lower().split()).replace('"', "")
