"""The CLI's mapping suggestions: list them, accept one. A thin face over
``app.suggestions``."""

from __future__ import annotations

import click
from rich.markup import escape

from moonshift.app import Moonshift, current_user
from moonshift.cli import output as o
from moonshift.cli.copy_commands import DefaultGroup
from moonshift.cli.core import cli, command, json_option, warn


class SuggestionsGroup(DefaultGroup):
    default = "list"


@cli.group(cls=SuggestionsGroup)
@json_option
def suggestions(as_json: bool) -> None:
    """Mapping suggestions: target tables and columns that likely are a source's, where the
    target names them otherwise, each with a score in [0, 1] and its reasons.

    \b
    Example:
      moonshift suggestions shop-copy
      moonshift suggestions accept shop-copy 893871b87b
    """


@suggestions.command(name="list")
@click.argument("migration_id")
@json_option
@command
def suggestions_list(app: Moonshift, migration_id: str, as_json: bool) -> None:
    """List the suggestions of the migration's current plan, tables first; those scored
    below 0.8 are marked for review.

    \b
    Example:
      moonshift suggestions list shop-copy --json
    """
    found = app.suggestions.list(migration_id, actor=current_user())
    if as_json:
        o.print_json(found)
        return
    if not found:
        o.out.print("no suggestions: every source table and column has its target")
        return
    grid = o.table("id", "source", "target", "score", "also", "why")
    for s in found:
        score = f"{s.score:.2f}" + (" [yellow]review[/]" if s.review else "")
        also = ", ".join(f"{escape(t)} {v:.2f}" for t, v in s.candidates[1:])
        grid.add_row(
            s.sid,
            escape(s.source),
            escape(s.target),
            score,
            also or "-",
            escape("; ".join(s.reasons)),
        )
    o.out.print(grid)


@suggestions.command(name="accept")
@click.argument("migration_id")
@click.argument("sid")
@json_option
@command(flags={"sid": "SID"})
def suggestions_accept(app: Moonshift, migration_id: str, sid: str, as_json: bool) -> None:
    """Write a suggestion into the migration's mapping: a new spec version (see
    `moonshift history` and `moonshift export`). Runs waiting for approval plan again.

    \b
    Example:
      moonshift suggestions accept shop-copy 893871b87b
    """
    found = app.suggestions.accept(migration_id, sid, actor=current_user())
    if as_json:
        o.print_json(found)
        return
    s = found.suggestion
    o.out.print(
        f"accepted {s.sid}: {escape(s.source)} -> {escape(s.target)}; "
        f"{escape(found.applied.id)} is "
        f"at spec version {found.applied.version}"
    )
    warn(found.applied.notes)
