"""``moonshift``: the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from functools import wraps
from typing import Any, Literal, TypeVar

import click
from rich.markup import escape
from rich.progress import Progress

from moonshift import __version__
from moonshift.cli import output as o
from moonshift.cli.progress import follow
from moonshift.domain import dag
from moonshift.domain.lifecycle import State
from moonshift.errors import InputError, MoonshiftError, OperationFailedError
from moonshift.scheduler.daemon import run_daemon, setup_logging
from moonshift.scheduler.engine import SchedulerConfig
from moonshift.service import STATUSES, Backfills, Daemons, Moonshift, Settings, current_user
from moonshift.specfile import SpecFileError

F = TypeVar("F", bound=Callable[..., Any])
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")(
        func
    )


def command(func: F) -> F:
    """Give a command its app, and turn moonshift's errors into messages and exit codes."""

    @click.pass_context
    @wraps(func)
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        app: Moonshift = ctx.obj
        try:
            return func(app, *args, **kwargs)
        except MoonshiftError as exc:
            _fail(exc, kwargs.get("as_json", False))
        finally:
            app.close()

    return wrapper  # type: ignore[return-value]


def _fail(exc: MoonshiftError, as_json: bool) -> None:
    problems = [str(p) for p in exc.problems] if isinstance(exc, SpecFileError) else [str(exc)]
    if as_json:
        o.print_json({"error": type(exc).__name__, "problems": problems})
    else:
        for problem in problems:
            o.err.print(f"[red]error:[/] {escape(problem)}", highlight=False)
    sys.exit(exc.exit_code)


@click.group(context_settings=CONTEXT)
@click.option(
    "--state",
    envvar="MOONSHIFT_STATE",
    metavar="URL",
    help="State store URL (default: SQLite at .moonshift/state.db). Env: MOONSHIFT_STATE.",
)
@click.option(
    "--home",
    envvar="MOONSHIFT_HOME",
    metavar="DIR",
    help="Folder for logs and the default SQLite state (default: ./.moonshift). "
    "Env: MOONSHIFT_HOME.",
)
@click.version_option(__version__, "--version", prog_name="moonshift")
@click.pass_context
def cli(ctx: click.Context, state: str | None, home: str | None) -> None:
    """moonshift schedules and runs data migrations between databases, safely.

    \b
    Example:
      moonshift apply migrations.yaml
      moonshift run-now nightly-users --wait
    """
    ctx.obj = Moonshift(Settings.from_env(state=state, home=home))


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
    result = app.validate(files)
    if as_json:
        o.print_json(
            {
                "valid": True,
                "migrations": [s.spec.id for s in result.specs],
                "warnings": [str(w) for w in result.warnings],
            }
        )
        return
    _warn(result.warnings)
    o.out.print(f"[green]ok[/]: {len(result.specs)} migration(s) in {len(files)} file(s) are valid")


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
    results, loaded = app.apply(files, actor=current_user())
    if as_json:
        o.print_json(
            {
                "results": [
                    {
                        "id": r.migration.id,
                        "action": r.action,
                        "version": r.migration.version,
                        "changed": r.changed,
                    }
                    for r in results
                ],
                "warnings": [str(w) for w in loaded.warnings],
            }
        )
        return
    _warn(loaded.warnings)
    grid = o.table("migration", "action", "version", "changed")
    for r in results:
        grid.add_row(
            r.migration.id, r.action, str(r.migration.version), ", ".join(r.changed) or "-"
        )
    o.out.print(grid)


@cli.command(name="list")
@click.option(
    "--status",
    type=click.Choice(STATUSES),
    help="Only migrations whose latest run is in this state.",
)
@click.option("--tag", help="Only migrations with this tag.")
@json_option
@command
def list_(app: Moonshift, status: str | None, tag: str | None, as_json: bool) -> None:
    """List migrations with the state of their latest run.

    \b
    Example:
      moonshift list --status failed --tag nightly
    """
    summaries = app.list_migrations(status=status, tag=tag)
    if as_json:
        o.print_json(
            [
                {
                    "id": s.migration.id,
                    "name": s.migration.name,
                    "kind": s.migration.kind,
                    "enabled": s.migration.enabled,
                    "version": s.migration.version,
                    "tags": s.migration.tags,
                    "status": s.status,
                    "last_run": s.last_run.id if s.last_run else None,
                }
                for s in summaries
            ]
        )
        return
    grid = o.table("id", "name", "kind", "enabled", "status", "last run", "version", "tags")
    for s in summaries:
        m = s.migration
        grid.add_row(
            m.id,
            m.name,
            m.kind,
            "yes" if m.enabled else "[yellow]no[/]",
            o.styled_state(s.status),
            o.when(s.last_run.created_at) if s.last_run else "-",
            str(m.version),
            ", ".join(m.tags),
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
    m = app.get_migration(migration_id)
    runs = app.list_runs(migration_id, limit=5)
    spec = o.redact_spec(m.spec)
    if as_json:
        o.print_json({"migration": {**o.to_jsonable(m), "spec": spec}, "runs": runs})
        return
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
                f"{side}: {escape(spec[side].get('name') or '')} {escape(spec[side]['url'])}"
            )
    if "command" in spec:
        o.out.print(f"command: {escape(str(spec['command']))}")
    _runs_table(runs, "latest runs")


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
    cancelled = app.delete(migration_id, actor=current_user(), force=force)
    if as_json:
        o.print_json({"deleted": migration_id, "cancelled_runs": cancelled})
        return
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
    _print_enabled(app.set_enabled(migration_id, True, actor=current_user()), as_json)


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
    _print_enabled(app.set_enabled(migration_id, False, actor=current_user()), as_json)


def _print_enabled(m: Any, as_json: bool) -> None:
    if as_json:
        o.print_json({"id": m.id, "enabled": m.enabled})
    else:
        o.out.print(f"{m.id} is {'enabled' if m.enabled else 'disabled'}")


@cli.command(name="run-now")
@click.argument("migration_id")
@click.option(
    "--wait", is_flag=True, help="Run in the foreground and wait for the end; exit 1 if it fails."
)
@json_option
@command
def run_now(app: Moonshift, migration_id: str, wait: bool, as_json: bool) -> None:
    """Run a migration once, now, whatever its schedule.

    Without --wait the run goes to a background worker and its id is printed.

    \b
    Example:
      moonshift run-now nightly-users --wait
    """
    run = app.run_now(migration_id, actor=current_user())
    if not wait:
        pid = app.start_worker(run.id)
        if as_json:
            o.print_json({"run": run.id, "worker_pid": pid})
        else:
            o.out.print(
                f"run {run.id} started in the background (worker pid {pid}); "
                f"follow it with: moonshift runs {migration_id}"
            )
        return
    if app.spec_of(migration_id).kind == "copy":
        run = follow(lambda: app.get_run(run.id).progress, lambda: app.execute_run(run.id))
    else:
        with o.err.status(f"run {run.id} of {migration_id}: running"):
            run = app.execute_run(run.id)
    if as_json:
        o.print_json(run)
    else:
        _print_outcome(run)
    if run.state not in (State.COMPLETED, State.CERTIFIED):
        sys.exit(1)


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
    run = app.cancel_run(run_id, actor=current_user(), reason=reason)
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
    found = app.list_runs(migration_id, limit=limit)
    if as_json:
        o.print_json(found)
    else:
        _runs_table(found, None)


@cli.command()
@click.argument("run_id", type=int)
@click.option(
    "--stderr", "use_stderr", is_flag=True, help="Show standard error instead of standard output."
)
@json_option
@command
def logs(app: Moonshift, run_id: int, use_stderr: bool, as_json: bool) -> None:
    """Print what a command run wrote to standard output (or --stderr).

    \b
    Example:
      moonshift logs 42 --stderr
    """
    stream: Literal["stdout", "stderr"] = "stderr" if use_stderr else "stdout"
    path = app.log_file(run_id, stream)
    text = path.read_text(encoding="utf-8", errors="replace")
    if as_json:
        o.print_json({"run": run_id, "stream": stream, "path": path, "content": text})
    else:
        sys.stdout.write(text)


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
    entries = app.history(migration_id, limit=limit)
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
    up = app.upcoming(migration_id, count=count)
    if as_json:
        o.print_json(up)
        return
    if up.schedule in (None, "event", "immediate"):
        o.out.print(o.no_fires(up.schedule))
        return
    zone = up.timezone
    grid = o.table("#", f"due ({zone})", "due (UTC)", "window", "starts")
    for index, d in enumerate(up.decisions, 1):
        grid.add_row(
            str(index),
            o.local(d.due, zone),
            o.in_utc(d.due),
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
    up = app.upcoming(migration_id, count=count)
    if as_json:
        o.print_json({"timezone": up.timezone, "open_now": up.open_now, "windows": up.windows})
        return
    if not up.windows and up.open_now is None:
        o.out.print(
            "no windows: runs may start at any time"
            if not app.spec_of(migration_id).windows
            else "no window opens again"
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
    "--detach", is_flag=True, help="Run in the background: pid file and log file under --home."
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
        config = SchedulerConfig(
            check_interval_seconds=check_interval,
            max_concurrent_runs=max_concurrent,
            pools=_parse_pools(pools),
            poll_seconds=poll,
        )
        if detach:
            args = [a for a in sys.argv[sys.argv.index("daemon") + 1 :] if a != "--detach"]
            pid = Daemons(app).spawn(args)
            o.print_json({"pid": pid}) if as_json else o.out.print(
                f"daemon started (pid {pid}); log: {app.settings.home / 'logs' / 'daemon.log'}"
            )
            return
        setup_logging(as_json)
        run_daemon(app.settings.state_url, app.settings.home, config)
    except MoonshiftError as exc:
        _fail(exc, as_json)
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
    status = Daemons(app).status()
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
    status = Daemons(app).stop()
    if as_json:
        o.print_json({"pid": status.pid, "was_stale": status.stale})
    elif status.stale:
        o.out.print(f"removed a stale pid file: pid {status.pid} was not running")
    else:
        o.out.print(f"daemon pid {status.pid} stopped")


@cli.command()
@click.argument("migration_id")
@click.option("--wait", is_flag=True, help="Follow the run until it ends; exit 1 if it fails.")
@json_option
@command
def start(app: Moonshift, migration_id: str, wait: bool, as_json: bool) -> None:
    """Start a migration now through the daemon (a MANUAL run), and print its run id.

    It still waits for its windows, dependencies and exclusions. Without a running daemon
    it says so; `moonshift run-now ID --wait` runs it in the foreground instead.

    \b
    Example:
      moonshift start nightly-users --wait
    """
    run = app.start(migration_id, actor=current_user())
    if not wait:
        o.print_json({"run": run.id}) if as_json else o.out.print(
            f"run {run.id} queued for the daemon"
        )
        return
    with o.err.status(f"run {run.id} of {migration_id}") as status:
        run = app.wait_for(
            run.id,
            on_change=lambda r: status.update(
                f"run {r.id} of {migration_id}: {r.state.value} {r.waiting_for or ''}"
            ),
        )
    o.print_json(run) if as_json else _print_outcome(run)
    if run.state not in (State.COMPLETED, State.CERTIFIED):
        sys.exit(1)


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
    events = app.trigger_event(event_type, payload, actor=current_user())
    if as_json:
        o.print_json(events)
        return
    for e in events:
        o.out.print(f"{e.migration_id or '-'}: {e.outcome} {e.reason or ''}")


@cli.command()
@click.argument("migration_id", required=False)
@click.option("--graph", is_flag=True, help="Print the whole graph for a diagram tool.")
@click.option(
    "--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True
)
@json_option
@command
def deps(app: Moonshift, migration_id: str | None, graph: bool, fmt: str, as_json: bool) -> None:
    """Show dependencies: what a migration waits for and what waits for it.

    \b
    Example:
      moonshift deps report
      moonshift deps --graph --format dot | dot -Tsvg > deps.svg
    """
    edges = app.dependency_graph()
    if migration_id is not None and migration_id not in edges:
        app.get_migration(migration_id)
    if as_json:
        o.print_json({"depends_on": edges, "dependents": dag.dependents(edges)})
    elif graph:
        print(dag.mermaid(edges) if fmt == "mermaid" else dag.dot(edges))
    elif migration_id:
        o.out.print("depends on:\n" + "\n".join(dag.tree_lines(edges, migration_id, upstream=True)))
        o.out.print("needed by:\n" + "\n".join(dag.tree_lines(edges, migration_id, upstream=False)))
    else:
        roots = sorted(n for n, d in edges.items() if not d)
        for root in roots:
            o.out.print("\n".join(dag.tree_lines(edges, root, upstream=False)))


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
@command
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
    backfills = Backfills(app)
    plan = backfills.plan(
        migration_id,
        _day_or_instant(start_),
        _day_or_instant(end),
        reprocess=reprocess,
        max_runs=max_runs,
    )
    if dry_run:
        if as_json:
            o.print_json(
                {
                    "fires": plan.fires,
                    "runs": [r.nominal_time for r in plan.runs],
                    "already_done": plan.already_done,
                }
            )
        else:
            span = f"{o.in_utc(plan.start)} to {o.in_utc(plan.end)}"
            o.out.print(
                f"{len(plan.fires)} fires from {span}: {len(plan.runs)} to run, "
                f"{plan.already_done} already done (--reprocess {reprocess})"
            )
        return
    if not app.store.live_daemons(app.clock.now()):
        raise OperationFailedError(
            "no moonshift daemon is running to execute the backfill: "
            "start one with `moonshift daemon --detach`"
        )
    record = backfills.create(plan, parallel=parallel, reprocess=reprocess, actor=current_user())
    if no_wait:
        o.print_json({"backfill": record.id, "runs": record.runs}) if as_json else o.out.print(
            f"backfill {record.id}: {record.runs} runs queued"
        )
        return
    counts = _follow_backfill(backfills, record.id, record.runs, quiet=as_json)
    succeeded = counts.get("completed", 0) + counts.get("certified", 0)
    failed = counts.get("failed", 0) + counts.get("cancelled", 0)
    if as_json:
        o.print_json({"backfill": record.id, "succeeded": succeeded, "failed": failed})
    else:
        o.out.print(f"backfill {record.id}: {succeeded} succeeded, {failed} failed")
    if failed:
        sys.exit(1)


def _follow_backfill(
    backfills: Backfills, backfill_id: int, total: int, *, quiet: bool
) -> dict[str, int]:
    with Progress(disable=quiet, console=o.err) as progress:
        task = progress.add_task(f"backfill {backfill_id}", total=total)

        def show(counts: dict[str, int]) -> None:
            ended = sum(
                n
                for state, n in counts.items()
                if state in ("completed", "certified", "failed", "cancelled")
            )
            progress.update(task, completed=ended)

        return backfills.wait(backfill_id, on_progress=show)


def _day_or_instant(value: datetime) -> date | datetime:
    return value.date() if value.time() == datetime.min.time() else value


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"--data: not JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(value, dict):
        raise InputError('--data: must be a JSON object like {"key": "value"}')
    return value


def _parse_pools(pools: tuple[str, ...]) -> dict[str, int]:
    found = {}
    for item in pools:
        name, _, size = item.partition("=")
        if not name or not size.isdigit() or int(size) < 1:
            raise InputError(f'--pool: "{item}" must be NAME=N with N at least 1')
        found[name] = int(size)
    return found


def _runs_table(runs: list[Any], title: str | None) -> None:
    grid = o.table("run", "trigger", "state", "created", "took", "exit", "reason", title=title)
    for r in runs:
        grid.add_row(
            str(r.id),
            r.trigger.value,
            o.styled_state(r.state.value),
            o.when(r.created_at),
            o.took(r.started_at, r.ended_at),
            "-" if r.exit_code is None else str(r.exit_code),
            escape(_why(r)),
        )
    o.out.print(grid if runs else "no runs")


def _why(run: Any) -> str:
    """What a run says for itself: what it waits for while queued, else its last reason."""
    if run.state in (State.CREATED, State.PAUSED) and run.waiting_for:
        return str(run.waiting_for)
    return str(run.reason or "")


def _print_outcome(run: Any) -> None:
    duration = o.took(run.started_at, run.ended_at)
    if run.state in (State.COMPLETED, State.CERTIFIED):
        o.out.print(f"run {run.id} [green]{run.state.value}[/] in {duration}")
        return
    o.out.print(f"run {run.id} [red]{run.state.value}[/]: {escape(run.reason or '')}")
    if run.error_tail:
        o.err.print(escape(run.error_tail), highlight=False)
        o.out.print(f"full output: moonshift logs {run.id} --stderr")


def _warn(warnings: list[Any]) -> None:
    for warning in warnings:
        o.err.print(f"[yellow]warning:[/] {escape(str(warning))}", highlight=False)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(InputError.exit_code)
    except click.Abort:
        o.err.print("aborted")
        sys.exit(130)


# The copy commands register themselves on ``cli``.
from moonshift.cli import copy_commands  # noqa: E402, F401
