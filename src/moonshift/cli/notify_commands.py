"""The commands of notifications: the delivery log of a migration's events, and channels."""

from __future__ import annotations

import click
from rich.markup import escape

from moonshift.app import Moonshift
from moonshift.cli import output as o
from moonshift.cli.core import cli, command, json_option


@cli.command()
@click.argument("migration_id")
@click.option("--run", "run_id", type=int, help="Only the events of this run.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@json_option
@command(flags={"run_id": "--run"})
def notifications(
    app: Moonshift, migration_id: str, run_id: int | None, limit: int, as_json: bool
) -> None:
    """Show a migration's events and their delivery to every channel (per-target log).

    Each delivery has a key, sent with it (a webhook's webhook-id): a receiver that keeps
    keys sees each event once, however often a crash made moonshift send it.

    \b
    Example:
      moonshift notifications nightly-users --limit 20
    """
    events = app.notifications.log(migration_id, run_id=run_id, limit=limit)
    if as_json:
        o.print_json(events)
        return
    grid = o.table("when", "event", "run", "channel", "status", "tries", "summary")
    for e in reversed(events):
        first = [o.when(e.at), e.kind, str(e.run_id or "")]
        if not e.deliveries:
            grid.add_row(*first, "-", "not routed", "", escape(e.summary))
        for d in e.deliveries:
            status = d.status
            if d.last_error and d.status != "delivered":
                status += f" ({escape(d.last_error)})"
            grid.add_row(*first, d.channel, status, str(d.attempts), escape(e.summary))
    o.out.print(grid)


@cli.command()
@json_option
@command
def channels(app: Moonshift, as_json: bool) -> None:
    """List the notification channels (channels: in spec files, setup-slack, setup-email).

    \b
    Example:
      moonshift channels --json
    """
    found = app.notifications.channels()
    if as_json:
        o.print_json(found)
        return
    grid = o.table("channel", "type", "name", "from")
    for c in found:
        grid.add_row(c.id, c.type, c.name, c.source_file or "-")
    o.out.print(grid)
