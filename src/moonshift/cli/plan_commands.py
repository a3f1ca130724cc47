"""The CLI's planning and approval commands: plan, approve, reject, note. Each is a thin face
over ``app.plans``."""

from __future__ import annotations

import sys
from datetime import timedelta

import click
from rich.markup import escape

from moonshift.app import Moonshift, current_user, views
from moonshift.cli import output as o
from moonshift.cli.core import cli, command, json_option, warn
from moonshift.domain.durations import format_duration


@cli.command()
@click.argument("migration_id")
@click.option("--refresh", is_flag=True, help="Read both schemas again and store a new plan.")
@json_option
@command
def plan(app: Moonshift, migration_id: str, refresh: bool, as_json: bool) -> None:
    """Show the migration's stored plan: its version, digest, and what a copy would do.

    The plan is made and stored the first time (and for each new spec version); --refresh
    reads both schemas again. Per table, in load order: rows, key, how it moves, every
    column's source type, target type and conversion (lossy or not), and what is created
    (types, tables, partitions, keys, indexes, constraints, sequences). Then every problem,
    with what resolves it. Exit code 1 if the copy could not start.

    \b
    Example:
      moonshift plan shop-copy --refresh
    """
    found = app.plans.plan(migration_id, actor=current_user(), refresh=refresh)
    if as_json:
        o.print_json(found)
    else:
        o.out.print(
            f"plan {found.version} of {escape(found.migration_id)} (spec version "
            f"{found.spec_version}), digest {found.digest}"
        )
        _print_plan(found)
        _print_estimate(found)
        _print_risks(found.risks)
        _print_suggestions(found)
        warn(found.notes)
    if found.errors:
        sys.exit(1)


def _print_plan(plan: views.CopyPlan) -> None:
    for name in plan.types:
        o.out.print(f"type {escape(name)}: created before the tables")
    for index, t in enumerate(plan.tables, 1):
        key = ", ".join(t.key) or "[yellow]none: one transaction[/]"
        o.out.print(
            f"\n[bold]{index}. {escape(t.source)} -> {escape(t.target)}[/]  "
            f"{t.rows:,} rows, key {key}, {'created, ' if t.create else ''}{t.how}"
        )
        grid = o.table("column", "source type", "target column", "target type", "conversion")
        for c in t.columns:
            conversion = escape(c.conversion)
            if c.lossy:
                conversion += f" [yellow](lossy: {escape(c.lossy)})[/]"
            if not c.written:
                conversion = f"generated: {escape(c.generated or '')}"
            grid.add_row(
                escape(c.source or "(expr)"),
                escape(c.source_type),
                escape(c.target),
                escape(c.target_type),
                conversion,
            )
        o.out.print(grid)
        made = [f"{escape(s.kind)} {escape(s.name)}" for s in t.objects]
        if made:
            o.out.print("  creates: " + "; ".join(made))
        for note in t.notes:
            o.out.print(f"  [dim]not recreated:[/] {escape(note)}")
    for issue in plan.warnings:
        o.err.print(f"[yellow]warning:[/] {escape(issue)}", highlight=False)
    for issue in plan.errors:
        o.err.print(f"[red]error:[/] {escape(issue)}", highlight=False)


def _print_estimate(plan: views.StoredPlan) -> None:
    estimate = plan.estimate
    if estimate is None:
        return
    seconds = timedelta(seconds=round(float(estimate.get("seconds") or 0)))
    line = f"\nestimate: {format_duration(seconds) if seconds else 'under a second'}"
    if estimate.get("target_bytes"):
        line += f", about {estimate['target_bytes'] / 1e6:,.1f} MB in the target"
    o.out.print(line)
    for t in estimate.get("tables", []):
        if t.get("error"):
            o.out.print(f"  {escape(t['table'])}: not measured: {escape(t['error'])}")
        elif t.get("read_rows_per_second"):
            o.out.print(
                f"  {escape(t['table'])}: {t['rows']:,} rows; read "
                f"{t['read_rows_per_second']:,.0f} rows/s, write "
                f"{t['write_rows_per_second']:,.0f} rows/s (sample of {t['sample_rows']:,})"
            )
    if plan.forecast:
        o.out.print(f"forecast: {escape(plan.forecast['text'])}")


SEVERITY_STYLE = {"high": "red", "medium": "yellow", "low": "dim"}


def _print_risks(risks: list[views.RiskFinding]) -> None:
    if not risks:
        o.out.print("\nrisks: none found")
        return
    grid = o.table("severity", "rule", "subject", "finding", "what to do", title="\nrisks")
    for r in risks:
        style = SEVERITY_STYLE.get(r.severity, "")
        grid.add_row(
            f"[{style}]{r.severity}[/]",
            r.rule,
            escape(r.subject),
            escape(r.message),
            escape(r.remediation),
        )
    o.out.print(grid)


def _print_suggestions(plan: views.StoredPlan) -> None:
    if not plan.suggestions:
        return
    review = sum(s.review for s in plan.suggestions)
    o.out.print(
        f"\nsuggested mappings: {len(plan.suggestions)} ({review} to review); see "
        f"moonshift suggestions {escape(plan.migration_id)}"
    )
    for s in plan.suggestions:
        flag = " [yellow]review[/]" if s.review else ""
        o.out.print(f"  {s.sid}  {escape(s.source)} -> {escape(s.target)}  {s.score:.2f}{flag}")


@cli.command()
@click.argument("migration_id")
@click.option("--run", "run_id", type=int, help="The run to approve (when several wait).")
@click.option("--note", help="Why, or what was checked; recorded with the approval.")
@json_option
@command(flags={"run": "--run"})
def approve(
    app: Moonshift, migration_id: str, run_id: int | None, note: str | None, as_json: bool
) -> None:
    """Approve the plan of a run waiting for approval.

    The approval names the plan's digest; with as many as approval.approvers asks, the
    run is approved and a daemon starts it. A spec change voids it.

    \b
    Example:
      moonshift approve shop-copy --run 12 --note "mappings reviewed"
    """
    found = app.plans.approve(migration_id, actor=current_user(), run_id=run_id, note=note)
    _print_decision(found, as_json)


@cli.command()
@click.argument("migration_id")
@click.option("--run", "run_id", type=int, help="The run to reject (when several wait).")
@click.option("--reason", required=True, help="Why; recorded in the history.")
@json_option
@command(flags={"run": "--run", "reason": "--reason"})
def reject(
    app: Moonshift, migration_id: str, run_id: int | None, reason: str, as_json: bool
) -> None:
    """Reject the plan of a run waiting for approval: the run is cancelled.

    \b
    Example:
      moonshift reject shop-copy --reason "target is the wrong database"
    """
    found = app.plans.reject(migration_id, actor=current_user(), reason=reason, run_id=run_id)
    _print_decision(found, as_json)


def _print_decision(found: views.Decision, as_json: bool) -> None:
    if as_json:
        o.print_json(found)
        return
    run = found.run
    o.out.print(
        f"run {run.id}: {found.decision} plan {found.digest[:12]} "
        f"({len(found.approved_by)} of {found.required} approvals); "
        f"it is {o.styled_state(run.state.value)}"
    )


@cli.command()
@click.argument("migration_id")
@click.argument("text")
@json_option
@command(flags={"text": "TEXT"})
def note(app: Moonshift, migration_id: str, text: str, as_json: bool) -> None:
    """Add a note to a migration's history.

    \b
    Example:
      moonshift note shop-copy "paused for the month-end close; resume Monday"
    """
    found = app.plans.note(migration_id, text, actor=current_user())
    if as_json:
        o.print_json(found)
    else:
        o.out.print(f"noted in the history of {escape(found.migration_id)}")
