"""``create`` and ``update``: a migration from a few options (or prompts on a terminal),
without writing YAML."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from moonshift.app import Moonshift, current_user, views
from moonshift.app.authoring import Options
from moonshift.cli import output as o
from moonshift.cli.core import cli, command, json_option

FLAGS = {
    "id": "--id",
    "name": "--name",
    "schedule": "--cron",
    "schedule.cron": "--cron",
    "schedule.timezone": "--timezone",
    "source": "--source",
    "source.url": "--source",
    "source.connection": "--source",
    "target": "--target",
    "target.url": "--target",
    "target.connection": "--target",
    "depends_on": "--dependencies",
    "depends_on.migration": "--dependencies",
    "dependency_strategy": "--dependency-strategy",
    "dependency_timeout": "--dependency-timeout",
}
STRATEGIES = click.Choice(["fail", "skip", "wait"])


def spec_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``create`` and ``update`` share."""
    for option in reversed(
        [
            click.option("--name", help="Display name (create: the id is made from it)."),
            click.option("--cron", help='When it runs, e.g. "0 2 * * *"; "" removes it.'),
            click.option("--timezone", help="The cron's IANA zone (default UTC)."),
            click.option(
                "--source",
                envvar="MOONSHIFT_SOURCE",
                help="Database URL or connection id to copy from. Env: MOONSHIFT_SOURCE.",
            ),
            click.option(
                "--target",
                envvar="MOONSHIFT_TARGET",
                help="Database URL or connection id to copy to. Env: MOONSHIFT_TARGET.",
            ),
            click.option(
                "--dependencies", metavar="ID,ID", help="Migrations that must succeed first."
            ),
            click.option(
                "--dependency-strategy",
                type=STRATEGIES,
                help="When a dependency failed: fail (default), skip, or wait for it.",
            ),
            click.option(
                "--dependency-timeout",
                metavar="DURATION",
                help="How long `wait` waits: 2h, 30m, or seconds (120).",
            ),
        ]
    ):
        func = option(func)
    return func


def _options(given: dict[str, Any]) -> Options:
    deps = given.pop("dependencies")
    return Options(
        **given,
        dependencies=None if deps is None else [d.strip() for d in deps.split(",") if d.strip()],
    )


def _on_terminal() -> bool:
    return sys.stdin.isatty()


def _ask(given: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Prompt for each value (the current one as default; Enter keeps it, "-" clears it)."""
    asked = dict(given)
    questions = [
        ("name", "Name"),
        ("cron", 'Cron expression ("" for none)'),
        ("source", "Source (database URL or connection id)"),
        ("target", "Target (database URL or connection id)"),
        ("dependencies", "Dependencies (ids, comma-separated)"),
        ("dependency_strategy", "Dependency strategy (fail, skip, wait)"),
        ("dependency_timeout", "Dependency timeout"),
    ]
    for key, text in questions:
        if asked.get(key) is None:
            answer = click.prompt(text, default=current.get(key) or "", show_default=True)
            asked[key] = None if answer == "" and key != "cron" else answer
    if asked["cron"] == "" and not current.get("cron"):
        asked["cron"] = None
    return asked


def _current(spec: Any) -> dict[str, Any]:
    """A stored spec's values as ``_ask`` offers them."""
    side = {
        s: (spec.get(s) or {}).get("url") or (spec.get(s) or {}).get("connection")
        for s in ("source", "target")
    }
    return {
        "name": spec.get("name"),
        "cron": (spec.get("schedule") or {}).get("cron"),
        **side,
        "dependencies": ",".join(d["migration"] for d in spec.get("depends_on", [])),
        "dependency_strategy": spec.get("dependency_strategy"),
        "dependency_timeout": spec.get("dependency_timeout"),
    }


def _print_applied(applied: views.Applied, as_json: bool) -> None:
    if as_json:
        o.print_json(applied)
    else:
        changed = f" ({', '.join(applied.changed)})" if applied.changed else ""
        o.out.print(f"{applied.id}: {applied.action}, version {applied.version}{changed}")


@cli.command()
@click.option("--id", "migration_id", help="The id (default: made from --name).")
@spec_options
@json_option
@command(flags=FLAGS)
def create(app: Moonshift, migration_id: str | None, as_json: bool, **given: Any) -> None:
    """Create a migration that copies every table from --source to --target.

    Run on a terminal without --name, --source or --target, it asks for each value the
    options leave out. --source and --target default to $MOONSHIFT_SOURCE and
    $MOONSHIFT_TARGET.

    \b
    Example:
      moonshift create --name "Nightly Sync" --cron "0 2 * * *" \\
        --source development --target staging
      moonshift create --name "User Data Migration" --dependencies "abc123,def456" \\
        --dependency-strategy wait --dependency-timeout 120
    """
    if _on_terminal() and not as_json:
        given = _ask(given, {})
    applied = app.migrations.create(
        _options(given), actor=current_user(), migration_id=migration_id
    )
    _print_applied(applied, as_json)


@cli.command()
@click.argument("migration_id")
@spec_options
@json_option
@command(flags=FLAGS)
def update(app: Moonshift, migration_id: str, as_json: bool, **given: Any) -> None:
    """Change a migration: the options given (a new version of its spec).

    Run on a terminal without options, it asks for each value, showing the current one.

    \b
    Example:
      moonshift update nightly-sync --cron "0 3 * * *"
    """
    if _on_terminal() and not as_json and all(v is None for v in given.values()):
        given = _ask(given, _current(app.migrations.get(migration_id).spec))
    applied = app.migrations.update(migration_id, _options(given), actor=current_user())
    _print_applied(applied, as_json)
