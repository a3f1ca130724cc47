"""The CLI's copy commands: verify, status, perf, pause, resume, stop, config, errors,
sync, lag and rollback. Each is a thin face over ``app.copies``."""

from __future__ import annotations

import sys
import time

import click
from rich.markup import escape

from moonshift.app import Moonshift, current_user, views
from moonshift.cli import output as o
from moonshift.cli.core import cli, command, finish, ignore_windows_option, json_option
from moonshift.cli.progress import TableBars, bars, follow
from moonshift.domain import lifecycle
from moonshift.errors import Conflict, InvalidInput


def run_copy_here(app: Moonshift, run_id: int) -> views.Run:
    """Execute a run in this process with a progress bar per table."""
    return follow(lambda: app.runs.get(run_id).progress, lambda: app.runs.execute(run_id))


class DefaultGroup(click.Group):
    """A group whose first argument, when it names no subcommand, goes to ``default``."""

    default = ""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        first = next((a for a in args if not a.startswith("-")), None)  # options may come first
        if first is not None and first not in self.commands:
            args = [self.default, *args]
        return super().parse_args(ctx, args)


class ErrorsGroup(DefaultGroup):
    default = "list"


class RollbackGroup(DefaultGroup):
    default = "run"


@cli.command()
@click.argument("migration_id")
@json_option
@command
def verify(app: Moonshift, migration_id: str, as_json: bool) -> None:
    """Count and checksum every copied table on both sides; exit 1 if any differs.

    The checksum is order-free and engine-neutral: each source value goes through the
    documented rule of its type, so a target that holds what the rule says matches. A copy
    that did not finish (rows, or a phase after them: an index, a foreign key) never
    matches: verify names what is left.

    \b
    Example:
      moonshift verify shop-copy
    """
    checks = app.copies.verify(migration_id)
    if as_json:
        o.print_json(checks)
    else:
        grid = o.table(
            "table", "source rows", "target rows", "source checksum", "target checksum", "result"
        )
        for c in checks:
            mark = (
                "[green]match[/]"
                if c.matches
                else "[red]UNFINISHED[/]"
                if c.unfinished
                else "[red]DIFFERS[/]"
            )
            grid.add_row(
                c.table,
                f"{c.source_rows:,}",
                f"{c.target_rows:,}",
                c.source_checksum[:16],
                c.target_checksum[:16],
                mark,
            )
        o.out.print(grid)
        for c in checks:
            for left in c.unfinished:
                o.err.print(f"[red]{escape(c.table)}:[/] {escape(left)}", highlight=False)
    if not all(c.matches for c in checks):
        sys.exit(1)


@cli.command()
@click.argument("migration_id")
@click.option("--watch", is_flag=True, help="Follow the run until it ends.")
@json_option
@command
def status(app: Moonshift, migration_id: str, watch: bool, as_json: bool) -> None:
    """Show the latest run's state (a copy's progress per table: rows, rate, time left)
    and the migration's latest notable events: pauses, resumes, a window ending, a skip.

    \b
    Example:
      moonshift status shop-copy --watch
    """
    status = app.copies.status(migration_id)
    if as_json:
        o.print_json(status)
        return
    o.out.print(f"run {status.run}: {o.styled_state(status.state)} {escape(status.reason or '')}")
    if status.progress is not None and status.progress.phase:
        o.out.print(f"after the rows: {escape(status.progress.phase)}")
    for event in reversed(status.events):
        o.out.print(f"{o.when(event.at)}  {event.kind}: {escape(event.summary)}")
    with bars() as progress:
        shown = TableBars(progress)
        shown.update(status.progress)
        while watch and status.state in lifecycle.UNDER_WAY:
            time.sleep(0.5)
            status = app.copies.status(migration_id)
            shown.update(status.progress)
    if watch:
        o.out.print(
            f"run {status.run}: {o.styled_state(status.state)} {escape(status.reason or '')}"
        )


@cli.command()
@click.argument("migration_id")
@json_option
@command
def perf(app: Moonshift, migration_id: str, as_json: bool) -> None:
    """Name the bottleneck of the latest copy run (source read, transform or target write).

    \b
    Example:
      moonshift perf shop-copy
    """
    found = app.copies.bottleneck(migration_id)
    if as_json:
        o.print_json(found)
        return
    grid = o.table("stage", "share of batch time")
    for stage, share in found.shares.items():
        grid.add_row(stage, f"{share:.0%}")
    o.out.print(grid)
    o.out.print(f"run {found.run}: {found.rate:,.0f} rows/s; bottleneck: {found.stage or '-'}")
    o.out.print(f"advice: {found.advice}")


@cli.command()
@click.argument("migration_id")
@click.option("--reason", help="Why; recorded in the history.")
@json_option
@command
def pause(app: Moonshift, migration_id: str, reason: str | None, as_json: bool) -> None:
    """Pause a running copy: its current batch finishes and checkpoints, then it waits.

    \b
    Example:
      moonshift pause shop-copy --reason "load spike on the source"
    """
    run = app.copies.pause(migration_id, actor=current_user(), reason=reason)
    _said(
        run,
        as_json,
        "pauses after its current batch; resume with: moonshift resume " + migration_id,
    )


@cli.command()
@click.argument("migration_id")
@click.option(
    "--immediate", is_flag=True, help="Roll back the batch in flight instead of finishing it."
)
@click.option("--reason", help="Why; recorded in the history.")
@json_option
@command
def stop(
    app: Moonshift, migration_id: str, immediate: bool, reason: str | None, as_json: bool
) -> None:
    """Stop a running copy at its checkpoint (emergency stop with --immediate).

    The run keeps its checkpoint: resume it, or roll it back. (To keep a schedule from
    starting runs, `moonshift disable ID`.)

    \b
    Example:
      moonshift stop shop-copy --immediate --reason "wrong target"
    """
    try:
        run = app.copies.stop(
            migration_id, actor=current_user(), immediate=immediate, reason=reason
        )
    except Conflict as exc:
        raise Conflict(
            f"{exc}; to keep its schedule from starting runs: moonshift disable {migration_id}"
        ) from None
    how = (
        "rolls back its batch in flight and stops" if immediate else "stops after its current batch"
    )
    _said(run, as_json, how)


@cli.command()
@click.argument("migration_id")
@click.option("--wait", is_flag=True, help="Resume here, in the foreground, with progress bars.")
@json_option
@command
def resume(app: Moonshift, migration_id: str, wait: bool, as_json: bool) -> None:
    """Resume a paused copy from its checkpoint (a daemon picks it up, or --wait runs it here).

    \b
    Example:
      moonshift resume shop-copy --wait
    """
    run = app.copies.resume(migration_id, actor=current_user())
    if not wait:
        _said(run, as_json, "resumes when a daemon picks it up (or: moonshift resume --wait)")
        return
    finish(run_copy_here(app, run.id), as_json)


@cli.command(name="config")
@click.argument("migration_id")
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    required=True,
    help="batch_size=N or parallel=N.",
)
@json_option
@command
def config_(app: Moonshift, migration_id: str, settings: tuple[str, ...], as_json: bool) -> None:
    """Change a running copy's batch_size or parallel; it takes them at its next batch.

    \b
    Example:
      moonshift config shop-copy --set batch_size=20000 --set parallel=4
    """
    parsed = {}
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep:
            raise InvalidInput("--set", f'must be NAME=VALUE, got "{item}"')
        parsed[name.strip()] = value.strip()
    try:
        run = app.copies.configure(migration_id, parsed, actor=current_user())
    except InvalidInput as exc:
        raise InvalidInput(f"--set {exc.field}" if exc.field else None, exc.reason) from None
    _said(
        run,
        as_json,
        "takes "
        + ", ".join(f"{k}={v}" for k, v in (run.overrides or {}).items())
        + " at its next batch",
    )


def _said(run: views.Run, as_json: bool, what: str) -> None:
    if as_json:
        o.print_json(run)
    else:
        o.out.print(f"run {run.id} of {run.migration_id} {what}")


@cli.group(cls=ErrorsGroup)
@json_option
def errors(as_json: bool) -> None:
    """The error queue: rows the target refused, set aside with the database's message.

    \b
    Example:
      moonshift errors shop-copy
      moonshift errors resolve 7 --skip --reason "test account, not migrated"
      moonshift errors retry 7
      moonshift errors retry --all shop-copy
    """


@errors.command(name="list")
@click.argument("migration_id")
@click.option("--all", "show_all", is_flag=True, help="Skipped and resolved ones too.")
@json_option
@command
def errors_list(app: Moonshift, migration_id: str, show_all: bool, as_json: bool) -> None:
    """List a copy's queued rows (open ones unless --all).

    \b
    Example:
      moonshift errors list shop-copy --all
    """
    found = app.copies.errors(migration_id, status=None if show_all else "open")
    if as_json:
        o.print_json(found)
        return
    grid = o.table("id", "table", "key", "status", "values", "message")
    for e in found:
        values = ", ".join(f"{k}={v}" for k, v in e.row_values.items())
        grid.add_row(
            str(e.id),
            e.table_name,
            e.row_key or "-",
            e.status,
            escape(values[:80]),
            escape(e.message),
        )
    o.out.print(grid)
    if not found:
        o.out.print("no rows in the error queue")


@errors.command(name="resolve")
@click.argument("error_id", type=int)
@click.option("--skip", is_flag=True, required=True, help="Leave the row out of the target.")
@click.option("--reason", required=True, help="Why; recorded in the audit log.")
@json_option
@command(flags={"reason": "--reason"})
def errors_resolve(app: Moonshift, error_id: int, skip: bool, reason: str, as_json: bool) -> None:
    """Resolve a queued row by skipping it, with the reason.

    \b
    Example:
      moonshift errors resolve 7 --skip --reason "duplicate customer, merged by hand"
    """
    record = app.copies.skip_error(error_id, actor=current_user(), reason=reason)
    o.print_json(record) if as_json else o.out.print(f"error {record.id} is {record.status}")


@errors.command(name="retry")
@click.argument("ids", nargs=-1)
@click.option("--all", "retry_all", is_flag=True, help="Every open row of the migration given.")
@json_option
@command
def errors_retry(app: Moonshift, ids: tuple[str, ...], retry_all: bool, as_json: bool) -> None:
    """Write queued rows again after fixing their cause: EID..., or --all MIGRATION_ID.

    \b
    Example:
      moonshift errors retry 7 8
      moonshift errors retry --all shop-copy
    """
    if retry_all:
        if len(ids) != 1:
            raise InvalidInput("--all", "give the migration id: moonshift errors retry --all ID")
        results = app.copies.retry_errors(ids[0], None, actor=current_user())
    else:
        if not ids or not all(i.isdigit() for i in ids):
            raise InvalidInput("ids", "give error ids (numbers), or --all MIGRATION_ID")
        results = app.copies.retry_errors(None, [int(i) for i in ids], actor=current_user())
    if as_json:
        o.print_json(results)
        return
    for r in results:
        outcome = (
            "[green]resolved[/]"
            if r.status == "resolved"
            else f"[red]still open[/]: {escape(r.message)}"
        )
        o.out.print(f"error {r.id}: {outcome}")
    if any(r.status != "resolved" for r in results):
        sys.exit(1)


@cli.command()
@click.argument("migration_id")
@click.option(
    "--wait", is_flag=True, help="Run the pass here with progress bars; exit 1 if it fails."
)
@ignore_windows_option
@json_option
@command
def sync(
    app: Moonshift, migration_id: str, wait: bool, ignore_windows: bool, as_json: bool
) -> None:
    """Run an incremental pass now (the cutover's final sync); outside every window it is
    refused, as run-now is, unless --ignore-windows.

    \b
    Example:
      moonshift sync orders-cdc --wait
    """
    run = app.copies.sync(migration_id, actor=current_user(), ignore_windows=ignore_windows)
    if not wait:
        started = app.runs.start_worker(run.id)
        _said(run, as_json, f"started in the background (worker pid {started.worker_pid})")
        return
    finish(run_copy_here(app, run.id), as_json)


@cli.command()
@click.argument("migration_id")
@json_option
@command
def lag(app: Moonshift, migration_id: str, as_json: bool) -> None:
    """How far an incremental target is behind: rows past the watermark, cursor distance.

    \b
    Example:
      moonshift lag orders-cdc
    """
    found = app.copies.lag(migration_id)
    if as_json:
        o.print_json(found)
        return
    grid = o.table("table", "watermark", "source newest", "rows behind", "distance")
    for t in found:
        distance = "-" if t.distance is None else str(t.distance)
        grid.add_row(t.table, str(t.watermark), str(t.newest), f"{t.rows_behind:,}", distance)
    o.out.print(grid)


@cli.group(cls=RollbackGroup)
@json_option
def rollback(as_json: bool) -> None:
    """Undo a copy in the target: truncate its tables, or restore them from the snapshot.

    \b
    Example:
      moonshift rollback shop-copy --strategy truncate --reason "bad mapping"
      moonshift rollback status shop-copy
    """


@rollback.command(name="run")
@click.argument("migration_id")
@click.option("--strategy", type=click.Choice(["truncate", "point-in-time"]), required=True)
@click.option("--reason", help="Why; recorded in the history.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@command
def rollback_run(
    app: Moonshift, migration_id: str, strategy: str, reason: str | None, yes: bool, as_json: bool
) -> None:
    """Roll a copy back (children first, one transaction where the engine allows).

    \b
    Example:
      moonshift rollback run shop-copy --strategy point-in-time --yes
    """
    if not yes and sys.stdin.isatty():
        click.confirm(f"empty the tables {migration_id} wrote ({strategy})?", abort=True)
    record = app.copies.rollback(
        migration_id, strategy=strategy, actor=current_user(), reason=reason
    )
    _print_rollback([record], as_json)


@rollback.command(name="status")
@click.argument("migration_id")
@json_option
@command
def rollback_status(app: Moonshift, migration_id: str, as_json: bool) -> None:
    """Show a copy's rollbacks, newest first, with rows before and after per table.

    \b
    Example:
      moonshift rollback status shop-copy
    """
    _print_rollback(app.copies.rollback_status(migration_id), as_json)


def _print_rollback(records: list[views.Rollback], as_json: bool) -> None:
    if as_json:
        o.print_json(records)
        return
    for r in records:
        o.out.print(
            f"rollback {r.id} ({r.strategy}) {r.state} "
            f"at {o.when(r.ended_at or r.started_at)} by {r.created_by}"
        )
        for t in r.tables:
            o.out.print(
                f"  {t['table']}: {t.get('rows_before', '-')} -> {t.get('rows_after', '-')} rows"
            )
    if not records:
        o.out.print("no rollbacks")
