"""The CLI's validation commands: ``validation run`` (prove a copy went right) and
``validation show``. A thin face over ``app.validation``."""

from __future__ import annotations

import sys

import click
from rich.markup import escape

from moonshift.app import Moonshift, current_user, views
from moonshift.cli import output as o
from moonshift.cli.core import cli, command, json_option


@cli.group()
@json_option
def validation(as_json: bool) -> None:
    """Validate a copied migration: structural, row-level and referential perspectives.

    (``moonshift validate FILE`` checks a spec file.)

    \b
    Example:
      moonshift validation run shop-copy
    """


@validation.command(name="run")
@click.argument("migration_id")
@json_option
@command
def validation_run(app: Moonshift, migration_id: str, as_json: bool) -> None:
    """Validate the copy now; exit 1 if any perspective fails.

    Its latest run, when completed, moves to validating and ends certified (every
    perspective passed) or failed (with the divergences); a run that ended already stays
    as it is and the validation is kept beside it.

    \b
    Example:
      moonshift validation run shop-copy
    """
    report = app.validation.run(migration_id, actor=current_user())
    _print(app, report, as_json)
    if not report.passed:
        sys.exit(1)


def _print(app: Moonshift, report: views.ValidationReport, as_json: bool) -> None:
    if as_json:
        o.print_json(report)
        return
    run = f", run {report.run_id} {report.run_state}" if report.run_id is not None else ""
    o.out.print(f"validation {report.id} of {report.migration_id}: {report.state}{run}")
    grid = o.table("perspective", "result", "divergences", "summary")
    for r in report.results:
        mark = "[green]passed[/]" if r.passed else "[red]FAILED[/]"
        grid.add_row(r.perspective, mark, f"{r.found:,}", escape(r.summary))
    o.out.print(grid)
    if report.state == "error" and report.summary:
        o.err.print(f"[red]error:[/] {escape(report.summary)}", highlight=False)
    if not report.passed:
        page = app.validation.divergences(report.migration_id, limit=20)
        for d in page.items:
            o.out.print(f"  {d.perspective} {escape(d.table)}: {d.kind}: {escape(d.what)}")
        if page.next:
            o.out.print("  ... (moonshift validation show for every one)")
