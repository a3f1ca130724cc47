"""The commands over migrations, runs, schedules, daemons and backfills."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any, Literal

import click
from rich.markup import escape
from rich.progress import Progress

from moonshift.app import STATUSES, Moonshift, current_user, views
from moonshift.cli import output as o
from moonshift.cli.core import (
    cli,
    command,
    fail,
    finish,
    ignore_windows_option,
    json_option,
    warn,
)
from moonshift.cli.logs import setup_logging
from moonshift.cli.progress import follow
from moonshift.cli.timing import timing_lines
from moonshift.domain import dag
from moonshift.errors import Conflict, InvalidInput, MoonshiftError, Unavailable


def run_here(app: Moonshift, run_id: int, migration_id: str) -> views.Run:
    """Execute a run in this process: a copy with a progress bar per table."""
    if app.runs.reports_progress(migration_id):
        return follow(lambda: app.runs.get(run_id).progress, lambda: app.runs.execute(run_id))
    with o.err.status(f"run {run_id} of {migration_id}: running"):
        return app.runs.execute(run_id)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@json_option
@command
def validate(app: Moonshift, files: tuple[str, ...], as_json: bool) -> None:
    """Check spec files without writing anything.

    Every problem is printed as FILE:LINE: FIELD: REASON; exit code 2 if any.

    \b
    Example:
      moonshift validate migrations/*.yaml
    """
    result = app.migrations.validate(files)
    if as_json:
        o.print_json(result)
        return
    warn(result.warnings)
    o.out.print(
        f"[green]ok[/]: {len(result.migrations)} migration(s) in {len(files)} file(s) are valid"
    )


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@json_option
@command
def apply(app: Moonshift, files: tuple[str, ...], as_json: bool) -> None:
    """Create or update the migrations in spec files.

    All files are validated first; if any is invalid nothing is written. A changed spec
    gets a new version; an unchanged one is left alone.

    \b
    Example:
      moonshift apply migrations.yaml
    """
    report = app.migrations.apply(files, actor=current_user())
    if as_json:
        o.print_json(report)
        return
    warn(report.warnings)
    grid = o.table("migration", "action", "version", "changed")
    for r in report.results:
        grid.add_row(r.id, r.action, str(r.version), ", ".join(r.changed) or "-")
    o.out.print(grid)
    for r in report.results:
        for line in r.notes:
            o.out.print(f"{escape(r.id)}: {escape(line)}")


@cli.command(name="list")
@click.option(
    "--status",
    type=click.Choice(STATUSES),
    help="Only migrations whose latest run is in this state.",
)
@click.option("--tag", help="Only migrations with this tag.")
@json_option
@command(flags={"status": "--status"})
def list_(app: Moonshift, status: str | None, tag: str | None, as_json: bool) -> None:
    """List migrations with the state of their latest run.

    \b
    Example:
      moonshift list --status failed --tag nightly
    """
    summaries = app.migrations.list(status=status, tag=tag)
    if as_json:
        o.print_json(summaries)
        return
    grid = o.table("id", "name", "kind", "enabled", "status", "last run", "version", "tags")
    for s in summaries:
        grid.add_row(
            s.id,
            s.name,
            s.kind,
            "yes" if s.enabled else "[yellow]no[/]",
            o.styled_state(s.status),
            o.when(s.last_run_at),
            str(s.version),
            ", ".join(s.tags),
        )
    o.out.print(grid if summaries else "no migrations")


@cli.command()
@click.argument("migration_id")
@json_option
@command
def show(app: Moonshift, migration_id: str, as_json: bool) -> None:
    """Show a migration: its spec (secrets redacted) and its latest runs.

    \b
    Example:
      moonshift show nightly-users
    """
    detail = app.migrations.show(migration_id)
    if as_json:
        o.print_json(detail)
        return
    m, spec = detail.migration, detail.migration.spec
    o.out.print(
        f"[bold]{escape(m.name)}[/] ({m.id}), version {m.version}, "
        f"{'enabled' if m.enabled else '[yellow]disabled[/]'}"
    )
    if m.description:
        o.out.print(escape(m.description))
    o.out.print(
        f"kind: {m.kind}   tags: {', '.join(m.tags) or '-'}   updated: {o.when(m.updated_at)}"
    )
    for side in ("source", "target"):
        if side in spec:
            o.out.print(
                f"{side}: {escape(spec[side].get('name') or '')} "
                + escape(spec[side].get("url") or f"connection {spec[side].get('connection')}")
            )
    if "command" in spec:
        o.out.print(f"command: {escape(str(spec['command']))}")
    for line in timing_lines(app.migrations.spec(migration_id)):
        o.out.print(line)
    _runs_table(detail.runs, "latest runs")


@cli.command()
@click.argument("migration_id")
@json_option
@command
def export(app: Moonshift, migration_id: str, as_json: bool) -> None:
    """Print a migration's stored spec as YAML, in moonshift's layout: `moonshift apply`
    takes it back as it is.

    \b
    Example:
      moonshift export nightly-users > nightly-users.yaml
    """
    exported = app.migrations.export(migration_id)
    if as_json:
        o.print_json(exported)
    else:
        sys.stdout.write(exported.yaml)


@cli.command()
@click.argument("migration_id")
@click.option("--force", is_flag=True, help="Cancel the migration's active runs, then delete it.")
@json_option
@command
def delete(app: Moonshift, migration_id: str, force: bool, as_json: bool) -> None:
    """Delete a migration (refused while a run is active, unless --force).

    Its runs and history are kept; applying the spec again restores it.

    \b
    Example:
      moonshift delete old-import --force
    """
    try:
        deleted = app.migrations.delete(migration_id, actor=current_user(), force=force)
    except Conflict as exc:
        raise Conflict(f"{exc}; --force cancels them") from None
    if as_json:
        o.print_json(deleted)
        return
    cancelled = deleted.cancelled_runs
    extra = f"; cancelled runs {', '.join(map(str, cancelled))}" if cancelled else ""
    o.out.print(f"deleted {migration_id}{extra}")


@cli.command()
@click.argument("migration_id")
@json_option
@command
def enable(app: Moonshift, migration_id: str, as_json: bool) -> None:
    """Enable a migration so that its schedule starts runs again.

    \b
    Example:
      moonshift enable nightly-users
    """
    _print_enabled(app.migrations.set_enabled(migration_id, True, actor=current_user()), as_json)


@cli.command()
@click.argument("migration_id")
@json_option
@command
def disable(app: Moonshift, migration_id: str, as_json: bool) -> None:
    """Disable a migration: its schedule starts no runs; run-now still works.

    A disabled migration stays disabled when the same spec file is applied again.

    \b
    Example:
      moonshift disable nightly-users
    """
    _print_enabled(app.migrations.set_enabled(migration_id, False, actor=current_user()), as_json)


def _print_enabled(m: views.Enabled, as_json: bool) -> None:
    if as_json:
        o.print_json(m)
    else:
        o.out.print(f"{m.id} is {'enabled' if m.enabled else 'disabled'}")


@cli.command(name="run-now")
@click.argument("migration_id")
@click.option(
    "--wait", is_flag=True, help="Run in the foreground and wait for the end; exit 1 if it fails."
)
@ignore_windows_option
@json_option
@command
def run_now(
    app: Moonshift, migration_id: str, wait: bool, ignore_windows: bool, as_json: bool
) -> None:
    """Run a migration once, now, whatever its schedule.

    Without --wait the run goes to a background worker and its id is printed. Outside
    every window it is refused, naming the next opening, unless --ignore-windows.

    \b
    Example:
      moonshift run-now nightly-users --wait
    """
    run = app.runs.run_now(migration_id, actor=current_user(), ignore_windows=ignore_windows)
    if not wait:
        started = app.runs.start_worker(run.id)
        if as_json:
            o.print_json(started)
        else:
            o.out.print(
                f"run {run.id} started in the background (worker pid {started.worker_pid}); "
                f"follow it with: moonshift runs {migration_id}"
            )
        return
    finish(run_here(app, run.id, migration_id), as_json)


@cli.command()
@click.argument("run_id", type=int)
@click.option("--reason", help="Why; recorded in the history.")
@json_option
@command
def cancel(app: Moonshift, run_id: int, reason: str | None, as_json: bool) -> None:
    """Cancel a run that has not ended; a running command is stopped.

    \b
    Example:
      moonshift cancel 42 --reason "wrong target"
    """
    run = app.runs.cancel(run_id, actor=current_user(), reason=reason)
    if as_json:
        o.print_json(run)
    else:
        o.out.print(f"run {run.id} is {run.state.value}")


@cli.command()
@click.argument("migration_id")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@json_option
@command
def runs(app: Moonshift, migration_id: str, limit: int, as_json: bool) -> None:
    """List a migration's runs, newest first.

    \b
    Example:
      moonshift runs nightly-users --limit 5
    """
    found = app.runs.list(migration_id, limit=limit)
    if as_json:
        o.print_json(found)
    else:
        _runs_table(found, None)


@cli.command()
@click.argument("run_or_migration")
@click.option(
    "--stderr", "use_stderr", is_flag=True, help="Show standard error instead of standard output."
)
@json_option
@command
def logs(app: Moonshift, run_or_migration: str, use_stderr: bool, as_json: bool) -> None:
    """Print what a command run wrote to standard output (or --stderr).

    Give a run id, or a migration id for its latest run that wrote a log.

    \b
    Example:
      moonshift logs 42 --stderr
      moonshift logs nightly-export
    """
    stream: Literal["stdout", "stderr"] = "stderr" if use_stderr else "stdout"
    if run_or_migration.isdigit():
        log = app.runs.log(int(run_or_migration), stream)
    else:
        log = app.runs.latest_log(run_or_migration, stream)
    if as_json:
        o.print_json(log)
    else:
        sys.stdout.write(log.content)


@cli.command()
@click.argument("migration_id")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@json_option
@command
def history(app: Moonshift, migration_id: str, limit: int, as_json: bool) -> None:
    """Show the audit log of a migration and its runs: who moved what, when and why.

    \b
    Example:
      moonshift history nightly-users --limit 20
    """
    entries = app.runs.history(migration_id, limit=limit)
    if as_json:
        o.print_json(entries)
        return
    grid = o.table("when", "actor", "run", "step", "reason")
    for e in reversed(entries):
        grid.add_row(o.when(e.at), e.actor, str(e.run_id or ""), o.step(e), escape(e.reason or ""))
    o.out.print(grid)


@cli.command(name="next")
@click.argument("migration_id")
@click.option("--count", default=10, show_default=True, type=click.IntRange(1, 1000))
@json_option
@command
def next_(app: Moonshift, migration_id: str, count: int, as_json: bool) -> None:
    """List a migration's upcoming fire times, in its time zone and in UTC.

    Fires that fall outside the migration's windows are marked with when they would
    start instead (or that they would fail, by its window_behavior).

    \b
    Example:
      moonshift next nightly-users --count 5
    """
    up = app.schedules.upcoming(migration_id, count=count)
    if as_json:
        o.print_json(up)
        return
    if up.schedule in (None, "event", "immediate"):
        o.out.print(o.no_fires(up.schedule))
        return
    zone = up.timezone
    seconds = o.needs_seconds([d.due for d in up.decisions])
    utc_column = zone != "UTC"  # a second UTC column would repeat the first
    grid = o.table("#", f"due ({zone})", *(["due (UTC)"] if utc_column else []), "window", "starts")
    for index, d in enumerate(up.decisions, 1):
        grid.add_row(
            str(index),
            o.local(d.due, zone, seconds=seconds),
            *([o.in_utc(d.due, seconds=seconds)] if utc_column else []),
            o.window_note(d, zone),
            o.start_note(d, zone),
        )
    o.out.print(grid if up.decisions else "no upcoming fires")


@cli.command()
@click.argument("migration_id")
@click.option("--count", default=10, show_default=True, type=click.IntRange(1, 1000))
@json_option
@command
def windows(app: Moonshift, migration_id: str, count: int, as_json: bool) -> None:
    """List when a migration's maintenance windows next open and close.

    \b
    Example:
      moonshift windows nightly-users
    """
    up = app.schedules.windows(migration_id, count=count)
    if as_json:
        o.print_json(up)
        return
    if not up.windows and up.open_now is None:
        o.out.print(
            "no windows: runs may start at any time" if not up.defined else "no window opens again"
        )
        return
    zone = up.timezone
    if up.open_now:
        until = (
            o.local(up.open_now.closes_at, zone)
            if up.open_now.closes_at
            else "further than we look"
        )
        o.out.print(f"[green]open now[/] ({up.open_now.name}) until {until}")
    else:
        o.out.print("[yellow]closed now[/]")
    grid = o.table("window", f"opens ({zone})", f"closes ({zone})", "lasts")
    for span in up.windows:
        lasts = o.took(span.opens_at, span.closes_at) if span.closes_at else "-"
        grid.add_row(span.name, o.local(span.opens_at, zone), o.local(span.closes_at, zone), lasts)
    o.out.print(grid)


@cli.group(invoke_without_command=True)
@click.option(
    "--detach/--no-detach",
    default=False,
    help="Run in the background (pid file and log file under --home), or in the foreground "
    "(the default).",
)
@click.option(
    "--max-concurrent",
    default=4,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Runs this daemon executes at once.",
)
@click.option(
    "--pool",
    "pools",
    multiple=True,
    metavar="NAME=N",
    help="Limit a pool to N runs at once, across all daemons (repeatable).",
)
@click.option(
    "--check-interval",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0.1, 3600),
    help="Longest sleep, in seconds.",
)
@click.option(
    "--poll",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.05, 60),
    help="How often to look for work others added, in seconds.",
)
@json_option
@click.pass_context
def daemon(
    ctx: click.Context,
    detach: bool,
    max_concurrent: int,
    pools: tuple[str, ...],
    check_interval: float,
    poll: float,
    as_json: bool,
) -> None:
    """Run the scheduler: start due runs on time, inside their windows, in order.

    Runs in the foreground and logs to stderr (--json for JSON lines); SIGTERM stops it,
    pausing running copies at a checkpoint for the next daemon. Several daemons may share a
    PostgreSQL state store.

    \b
    Example:
      moonshift daemon --detach --max-concurrent 8 --pool warehouse=2
      moonshift daemon status
      moonshift daemon stop
    """
    if ctx.invoked_subcommand:
        return
    app: Moonshift = ctx.obj
    try:
        config = app.daemons.config(
            max_concurrent=max_concurrent,
            pools=_parse_pools(pools),
            check_interval=check_interval,
            poll=poll,
        )
        if detach:
            args = [
                a
                for a in sys.argv[sys.argv.index("daemon") + 1 :]
                if a not in ("--detach", "--no-detach")
            ]
            started = app.daemons.spawn(args)
            o.print_json(started) if as_json else o.out.print(
                f"daemon started (pid {started.pid}); log: {started.log}"
            )
            return
        setup_logging(as_json)
        app.daemons.run(config)
    except MoonshiftError as exc:
        fail(exc, as_json)
    finally:
        app.close()


@daemon.command(name="status")
@json_option
@command
def daemon_status(app: Moonshift, as_json: bool) -> None:
    """Show whether this folder's daemon runs, and every daemon sharing the state store.

    \b
    Example:
      moonshift daemon status
    """
    status = app.daemons.status()
    if as_json:
        o.print_json(status)
        return
    pid = status.pid_file
    if pid.pid is None:
        o.out.print("no daemon is running here (no pid file)")
    elif pid.stale:
        o.out.print(f"[yellow]stale pid file[/]: pid {pid.pid} is not running ({pid.path})")
    else:
        o.out.print(f"[green]running[/] with pid {pid.pid}")
    grid = o.table("daemon", "host", "pid", "started", "last heartbeat", "state")
    for d in status.live:
        grid.add_row(
            d.id,
            d.host,
            str(d.pid),
            o.when(d.started_at),
            o.when(d.heartbeat_at),
            "stopping" if d.stopping else "running",
        )
    if status.live:
        o.out.print(grid)


@daemon.command(name="stop")
@json_option
@command
def daemon_stop(app: Moonshift, as_json: bool) -> None:
    """Stop this folder's daemon (SIGTERM) and wait until it has paused its copies and exited.

    \b
    Example:
      moonshift daemon stop
    """
    status = app.daemons.stop()
    if as_json:
        o.print_json(status)
    elif status.was_stale:
        o.out.print(f"removed a stale pid file: pid {status.pid} was not running")
    else:
        o.out.print(f"daemon pid {status.pid} stopped")


@cli.command()
@click.argument("migration_id")
@click.option("--wait", is_flag=True, help="Follow the run until it ends; exit 1 if it fails.")
@ignore_windows_option
@json_option
@command
def start(
    app: Moonshift, migration_id: str, wait: bool, ignore_windows: bool, as_json: bool
) -> None:
    """Start a migration now through the daemon (a MANUAL run), and print its run id.

    Outside every window it is refused, naming the next opening, unless --ignore-windows;
    it still waits for its dependencies and exclusions. Without a running daemon it says
    so; `moonshift run-now ID --wait` runs it in the foreground instead. To let a disabled
    migration's schedule start runs again, `moonshift enable ID`.

    \b
    Example:
      moonshift start nightly-users --wait
    """
    try:
        run = app.runs.start(migration_id, actor=current_user(), ignore_windows=ignore_windows)
    except Unavailable as exc:
        raise Unavailable(
            f"{exc}: start one with `moonshift daemon --detach`, "
            f"or run in the foreground with `moonshift run-now {migration_id} --wait`"
        ) from None
    if not wait:
        if as_json:
            o.print_json(views.Queued(run=run.id))
            return
        o.out.print(f"run {run.id} queued for the daemon")
        if not app.migrations.get(migration_id).enabled:
            warn([f"{migration_id} is disabled: its schedule starts no runs (moonshift enable)"])
        return
    with o.err.status(f"run {run.id} of {migration_id}") as status:
        run = app.runs.wait(
            run.id,
            on_change=lambda r: status.update(
                f"run {r.id} of {migration_id}: {r.state.value} {r.waiting_for or ''}"
            ),
        )
    finish(run, as_json)


@cli.command()
@click.argument("event_type")
@click.option("--data", default="{}", help="The event's payload, a JSON object.")
@json_option
@command
def trigger(app: Moonshift, event_type: str, data: str, as_json: bool) -> None:
    """Send an event: migrations whose event schedule matches its type and filter start.

    \b
    Example:
      moonshift trigger data_available --data '{"bucket": "exports"}'
    """
    payload = _json_object(data)
    events = app.schedules.trigger_event(event_type, payload, actor=current_user())
    if as_json:
        o.print_json(events)
        return
    for e in events:
        o.out.print(f"{e.migration_id or '-'}: {e.outcome} {e.reason or ''}")


@cli.command()
@click.argument("migration_id", required=False)
@click.option("--graph", is_flag=True, help="Print the whole graph for a diagram tool.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot"]),
    help="The graph's notation (implies --graph)  [default: mermaid]",
)
@json_option
@command
def deps(
    app: Moonshift, migration_id: str | None, graph: bool, fmt: str | None, as_json: bool
) -> None:
    """Show dependencies: what a migration waits for and what waits for it.

    Also called `moonshift dependencies`.

    \b
    Example:
      moonshift deps report
      moonshift deps --format dot | dot -Tsvg > deps.svg
      moonshift dependencies --graph
    """
    found = app.migrations.dependencies(migration_id)
    edges = found.depends_on
    if as_json:
        o.print_json(found)
    elif graph or fmt:
        print(dag.dot(edges) if fmt == "dot" else dag.mermaid(edges))
    elif migration_id:
        o.out.print("depends on:\n" + "\n".join(dag.tree_lines(edges, migration_id, upstream=True)))
        o.out.print("needed by:\n" + "\n".join(dag.tree_lines(edges, migration_id, upstream=False)))
    else:
        roots = sorted(n for n, d in edges.items() if not d)
        for root in roots:
            o.out.print("\n".join(dag.tree_lines(edges, root, upstream=False)))


cli.add_command(deps, name="dependencies")


@cli.command()
@click.argument("migration_id")
@click.option(
    "--start", "start_", required=True, type=click.DateTime(), help="First day (or instant)."
)
@click.option(
    "--end", required=True, type=click.DateTime(), help="Last day, included (or instant, excluded)."
)
@click.option(
    "--parallel",
    default=1,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Backfill runs at once.",
)
@click.option(
    "--reprocess",
    type=click.Choice(["missing", "failed", "all"]),
    default="missing",
    show_default=True,
    help="Which fires to run: those without a run, failed ones too, or all.",
)
@click.option(
    "--max",
    "max_runs",
    default=10_000,
    show_default=True,
    type=click.IntRange(1),
    help="Refuse a backfill of more runs than this.",
)
@click.option("--dry-run", is_flag=True, help="Show what would run; change nothing.")
@click.option("--no-wait", is_flag=True, help="Return once the runs are queued.")
@json_option
@command(
    flags={
        "start": "--start",
        "end": "--end",
        "parallel": "--parallel",
        "reprocess": "--reprocess",
        "max_runs": "--max",
    }
)
def backfill(
    app: Moonshift,
    migration_id: str,
    start_: datetime,
    end: datetime,
    parallel: int,
    reprocess: str,
    max_runs: int,
    dry_run: bool,
    no_wait: bool,
    as_json: bool,
) -> None:
    """Run a migration for past dates: each fire in the range becomes a BACKFILL run.

    Each run gets its fire's time as logical date (MOONSHIFT_LOGICAL_DATE for commands). The
    runs obey windows and exclusions, yield to live runs, and need a running daemon.

    \b
    Example:
      moonshift backfill nightly-users --start 2026-01-01 --end 2026-01-31 --parallel 4
    """
    first, last = start_, end
    if dry_run:
        plan = app.backfills.plan(migration_id, first, last, reprocess=reprocess, max_runs=max_runs)
        if as_json:
            o.print_json(plan)
        else:
            span = f"{o.in_utc(plan.start)} to {o.in_utc(plan.end)}"
            o.out.print(
                f"{len(plan.fires)} fires from {span}: {len(plan.runs)} to run, "
                f"{plan.already_done} already done (--reprocess {reprocess})"
            )
        return
    try:
        record = app.backfills.create(
            migration_id,
            first,
            last,
            actor=current_user(),
            parallel=parallel,
            reprocess=reprocess,
            max_runs=max_runs,
        )
    except Unavailable as exc:
        raise Unavailable(f"{exc}: start one with `moonshift daemon --detach`") from None
    if no_wait:
        queued = views.BackfillQueued(backfill=record.id, runs=record.runs)
        o.print_json(queued) if as_json else o.out.print(
            f"backfill {record.id}: {record.runs} runs queued"
        )
        return
    result = _follow_backfill(app, record, quiet=as_json)
    if as_json:
        o.print_json(result)
    else:
        o.out.print(f"backfill {record.id}: {result.succeeded} succeeded, {result.failed} failed")
    if result.failed:
        sys.exit(1)


def _follow_backfill(
    app: Moonshift, record: views.Backfill, *, quiet: bool
) -> views.BackfillResult:
    with Progress(disable=quiet, console=o.err) as progress:
        task = progress.add_task(f"backfill {record.id}", total=record.runs)

        def show(counts: views.BackfillProgress) -> None:
            progress.update(task, completed=counts.ended)

        return app.backfills.wait(record.id, on_progress=show)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput("--data", f"not JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(value, dict):
        raise InvalidInput("--data", 'must be a JSON object like {"key": "value"}')
    return value


def _parse_pools(pools: tuple[str, ...]) -> dict[str, int]:
    found = {}
    for item in pools:
        name, _, size = item.partition("=")
        if not name or not size.isdigit() or int(size) < 1:
            raise InvalidInput("--pool", f'"{item}" must be NAME=N with N at least 1')
        found[name] = int(size)
    return found


def _runs_table(runs: list[views.Run], title: str | None) -> None:
    grid = o.table("run", "trigger", "state", "created", "took", "exit", "reason", title=title)
    for r in runs:
        grid.add_row(
            str(r.id),
            r.trigger.value,
            o.styled_state(r.state.value),
            o.when(r.created_at),
            o.took(r.started_at, r.ended_at),
            "-" if r.exit_code is None else str(r.exit_code),
            escape(r.says),
        )
    o.out.print(grid if runs else "no runs")
