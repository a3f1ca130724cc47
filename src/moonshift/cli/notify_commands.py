"""The commands of notifications: the delivery log of a migration's events, and channels."""

from __future__ import annotations

import sys
from typing import Any

import click
import yaml
from rich.markup import escape

from moonshift.app import Moonshift, current_user
from moonshift.app.alerts import SHOWN
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


@cli.group()
@json_option
def notify(as_json: bool) -> None:
    """Notification channels: send a test message to verify one.

    \b
    Example:
      moonshift notify test ops-hook
    """


@notify.command(name="test")
@click.argument("channel_id")
@json_option
@command
def notify_test(app: Moonshift, channel_id: str, as_json: bool) -> None:
    """Send a test message to a channel now, from here; exit 1 if it did not arrive.

    Uses this shell's environment for the channel's ${ENV} references.

    \b
    Example:
      moonshift notify test ops-slack
    """
    result = app.notifications.test(channel_id, actor=current_user())
    if as_json:
        o.print_json(result)
    elif result.ok:
        o.out.print(f"channel {channel_id}: test message delivered in {result.seconds}s")
    else:
        o.err.print(f"channel {channel_id}: not delivered: {escape(result.reason or '')}")
    if not result.ok:
        sys.exit(1)


def _saved(app: Moonshift, settings: dict[str, Any], as_json: bool, test: bool) -> None:
    """Save a channel from setup-slack / setup-email, show it as YAML, test it if asked."""
    applied = app.notifications.define(settings, actor=current_user())
    tested = app.notifications.test(applied.id, actor=current_user()) if test else None
    if as_json:
        o.print_json([applied, *([tested] if tested else [])])
    else:
        o.out.print(f"channel {applied.id} {applied.action}; in a spec file it reads:\n")
        shown = {k: v for k, v in settings.items() if v not in (None, "", [])}
        print(yaml.safe_dump({"channels": [shown]}, sort_keys=False).rstrip())
        if tested:
            said = "delivered" if tested.ok else f"not delivered: {tested.reason}"
            o.out.print(f"\ntest message: {escape(said)}")
    if tested and not tested.ok:
        sys.exit(1)


def _ask(question: str, default: str) -> str:
    """An optional setting: asked on a terminal, its default elsewhere."""
    if not sys.stdin.isatty():
        return default
    return str(click.prompt(question, default=default, show_default=bool(default)))


def _reference(name: str | None) -> str | None:
    return "${" + name + "}" if name else None


@cli.command(name="setup-slack")
@click.option("--id", "channel_id", prompt="Channel id", help="The channel's id, e.g. ops-slack.")
@click.option(
    "--url",
    prompt="Incoming webhook URL, as ${VAR} naming the variable that holds it",
    help="The incoming webhook: ${VAR} (its token stays in the environment), or a URL "
    "without a token such as a local relay.",
)
@click.option("--name", default="", help="Display name.")
@click.option("--test", "send_test", is_flag=True, help="Send a test message once saved.")
@json_option
@command(flags={"id": "--id", "url": "--url"})
def setup_slack(
    app: Moonshift, channel_id: str, url: str, name: str, send_test: bool, as_json: bool
) -> None:
    """Define a Slack channel (an incoming webhook), from flags or by prompting.

    \b
    Example:
      moonshift setup-slack --id ops-slack --url '${SLACK_WEBHOOK_URL}' --test
    """
    settings = {"id": channel_id, "type": "slack", "url": url, "name": name}
    _saved(app, settings, as_json, send_test)


@cli.command(name="setup-email")
@click.option("--id", "channel_id", prompt="Channel id", help="The channel's id, e.g. ops-mail.")
@click.option("--host", prompt="SMTP host", help="The SMTP server.")
@click.option("--port", type=click.IntRange(1, 65535), help="Default 587, 465 with tls, 25.")
@click.option(
    "--security",
    type=click.Choice(["starttls", "tls", "none"]),
    help="starttls (default), tls, or none.",
)
@click.option("--username", help="The SMTP login, if the server wants one.")
@click.option(
    "--password-env",
    help="The name of the environment variable holding the password (never the password).",
)
@click.option("--from", "sender", prompt="From address", help="The sender address.")
@click.option("--to", multiple=True, required=True, help="A recipient (repeat for more).")
@click.option("--name", default="", help="Display name.")
@click.option("--test", "send_test", is_flag=True, help="Send a test message once saved.")
@json_option
@command(
    flags={
        "id": "--id",
        "host": "--host",
        "port": "--port",
        "username": "--username",
        "password": "--password-env",
        "from": "--from",
        "to": "--to",
    }
)
def setup_email(
    app: Moonshift,
    channel_id: str,
    host: str,
    port: int | None,
    security: str | None,
    username: str | None,
    password_env: str | None,
    sender: str,
    to: tuple[str, ...],
    name: str,
    send_test: bool,
    as_json: bool,
) -> None:
    """Define an email channel (SMTP with STARTTLS or TLS and a login), from flags or by
    prompting. The password is named by its environment variable, never given.

    \b
    Example:
      moonshift setup-email --id ops-mail --host smtp.example.com --username alerts \\
        --password-env SMTP_PASSWORD --from moonshift@example.com --to ops@example.com
    """
    if security is None:
        security = _ask("Security (starttls, tls, none)", "starttls")
    if username is None:
        username = _ask("SMTP user (empty: no login)", "")
    if username and password_env is None:
        password_env = _ask("Variable that holds the SMTP password", "SMTP_PASSWORD")
    settings = {
        "id": channel_id,
        "type": "email",
        "name": name,
        "host": host,
        "port": port,
        "security": security,
        "username": username or None,
        "password": _reference(password_env),
        "from": sender,
        "to": list(to),
    }
    _saved(app, settings, as_json, send_test)


@cli.group(invoke_without_command=True)
@click.option(
    "--status",
    type=click.Choice(SHOWN),
    help="Only alerts in this status (default: those not closed).",
)
@click.option("--migration", "migration_id", help="Only the alerts of this migration.")
@json_option
@click.pass_context
def alerts(ctx: click.Context, status: str | None, migration_id: str | None, as_json: bool) -> None:
    """List alerts: failures, unreachable databases, missed windows, escalated errors.

    An open alert is sent again on its migration's alerts.renotify schedule until someone
    acknowledges it; it closes when its cause is resolved (a later run completes, the
    database answers, the error queue is clear).

    \b
    Example:
      moonshift alerts
      moonshift alerts ack 7 --note "on it: the replica is being restarted"
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(alerts_list, status=status, migration_id=migration_id, as_json=as_json)


@command(flags={"status": "--status"})
def alerts_list(
    app: Moonshift, status: str | None, migration_id: str | None, as_json: bool
) -> None:
    found = app.alerts.list(status=status, migration_id=migration_id)
    if as_json:
        o.print_json(found)
        return
    grid = o.table("id", "status", "severity", "opened", "sent", "by", "summary")
    for a in found:
        by = a.acknowledged_by or (a.closed_by and "resolved") or "-"
        grid.add_row(
            str(a.id),
            a.status,
            a.severity,
            o.when(a.opened_at),
            str(a.notifications),
            escape(by),
            escape(a.summary + (f" (note: {a.note})" if a.note else "")),
        )
    o.out.print(grid if found else "no alerts")


@alerts.command(name="ack")
@click.argument("alert_id", type=int)
@click.option("--note", help="What you are doing about it; kept with the alert and in history.")
@json_option
@command(flags={"note": "--note"})
def alerts_ack(app: Moonshift, alert_id: int, note: str | None, as_json: bool) -> None:
    """Acknowledge an alert: its reminders stop; who and the note are in history.

    \b
    Example:
      moonshift alerts ack 7 --note "restarting the replica"
    """
    alert = app.alerts.acknowledge(alert_id, actor=current_user(), note=note)
    if as_json:
        o.print_json(alert)
    else:
        o.out.print(f"alert {alert.id} acknowledged by {alert.acknowledged_by}")
