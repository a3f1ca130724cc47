"""The behavioral perspective: the spec's queries (``validation.queries``, and those of
``validation.queries_file``) run on both sides, their answers compared as order-free
canonical hashes: each row's values in canonical text (numbers by value, so 12.50, 12.5
and 12.5e0 agree; instants in UTC; booleans as 0 and 1), the rows sorted, hashed. A query
written for the source's engine may be given per engine (``engines:``)."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from moonshift.domain.validation import CheckResult, Divergence, Findings
from moonshift.domain.validation_spec import QuerySpec
from moonshift.validation.semantic import QueryFailed, rows_of, text
from moonshift.validation.subject import Subject

SHOWN_ROWS = 5  # rows of each side's difference a divergence shows


class Behavioral:
    name = "behavioral"

    def run(self, subject: Subject) -> CheckResult:
        findings = Findings(subject.limit)
        counts = Counter[str]()
        try:
            queries = queries_of(subject)
        except ValueError as exc:
            findings.add(Divergence(table="*", kind="failed", what=str(exc)))
            return findings.result(self.name, "the queries could not be read")
        for query in queries:
            subject.heartbeat()
            counts["queries"] += 1
            problem = _compare(subject, query, counts)
            if problem is not None:
                findings.add(problem)
        summary = (
            f"{counts['queries']} queries, {counts['rows']} rows"
            if counts
            else ("no queries in validation.queries")
        )
        return findings.result(self.name, summary, dict(counts))


def queries_of(subject: Subject) -> list[QuerySpec]:
    spec = subject.spec.validation_spec
    found = list(spec.queries)
    if spec.queries_file:
        path = Path(spec.queries_file)
        try:
            listed = yaml.safe_load(path.read_text()) or []
            found += [QuerySpec.model_validate(q) for q in listed]
        except (OSError, yaml.YAMLError, ValidationError, TypeError) as exc:
            first = (str(exc).splitlines() or [""])[0]
            raise ValueError(f"validation.queries_file: {path}: {first}") from None
    return found


def answer(rows: list[tuple[Any, ...]]) -> tuple[str, Counter[tuple[str | None, ...]]]:
    """The order-free canonical hash of a query's rows, and the rows as canonical text."""
    canonical = Counter(tuple(text(v) for v in row) for row in rows)
    lines = sorted(
        "\x1f".join("\\N" if v is None else v for v in row) for row in canonical.elements()
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest(), canonical


def _compare(subject: Subject, query: QuerySpec, counts: Counter[str]) -> Divergence | None:
    sql_source = query.for_engine(subject.source.engine)
    sql_target = query.for_engine(subject.target.engine)
    if sql_source is None or sql_target is None:
        missing = subject.source.engine if sql_source is None else subject.target.engine
        return Divergence(
            table="*", kind="failed", what=f"query {query.name}: no SQL for {missing}"
        )
    try:
        ours = rows_of(subject.source, "source", sql_source)
        theirs = rows_of(subject.target, "target", sql_target)
    except QueryFailed as exc:
        return Divergence(table="*", kind="failed", what=f"query {query.name}: {exc}")
    counts["rows"] += len(ours) + len(theirs)
    (src_hash, src_rows), (tgt_hash, tgt_rows) = answer(ours), answer(theirs)
    if src_hash == tgt_hash:
        return None
    only_source = list((src_rows - tgt_rows).elements())
    only_target = list((tgt_rows - src_rows).elements())
    return Divergence(
        table="*",
        kind="differs",
        what=(
            f"query {query.name}: {len(ours)} rows in the source, {len(theirs)} in the "
            f"target; {len(only_source)} only in the source, {len(only_target)} only in "
            "the target"
        ),
        source={"hash": src_hash, **_rows(only_source)},
        target={"hash": tgt_hash, **_rows(only_target)},
    )


def _rows(rows: list[tuple[str | None, ...]]) -> dict[str, str | None]:
    return {
        f"row {i + 1}": ", ".join("NULL" if v is None else v for v in row)
        for i, row in enumerate(sorted(rows, key=str)[:SHOWN_ROWS])
    }
