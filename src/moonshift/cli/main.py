"""``moonshift``: the command line. It parses, calls the application layer and renders the
views it returns; it holds no rules of its own."""

from __future__ import annotations

import sys

import click

from moonshift.cli import (
    authoring_commands,
    commands,
    copy_commands,
    notify_commands,
    plan_commands,
    server_commands,
    suggestion_commands,
    validation_commands,
)
from moonshift.cli import output as o
from moonshift.cli.core import BAD_INPUT, cli

__all__ = [
    "authoring_commands",
    "cli",
    "commands",
    "copy_commands",
    "main",
    "notify_commands",
    "plan_commands",
    "server_commands",
    "suggestion_commands",
    "validation_commands",
]


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(BAD_INPUT)
    except click.Abort:
        o.err.print("aborted")
        sys.exit(130)
