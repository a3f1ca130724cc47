"""``moonshift``: the command line. It parses, calls the application layer and renders the
views it returns; it holds no rules of its own."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading

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
    _exit(_run())


def _run() -> int:
    """The command's exit code."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return BAD_INPUT
    except click.Abort:
        o.err.print("aborted")
        return 130
    except SystemExit as exc:
        if isinstance(exc.code, str):
            o.err.print(exc.code, highlight=False)
            return 1
        return exc.code or 0
    return 0


def _exit(code: int) -> None:
    """End the process once the command is done: what it wrote flushed (each command closes
    its app), without the interpreter tearing its modules down one by one, which took a
    tenth of a second of every command. A command that left a thread or a process of its own
    running ends the usual way, which waits for them."""
    others = [t for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()]
    processes = sys.modules.get("multiprocessing")
    if others or (processes is not None and processes.active_children()):
        sys.exit(code)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing reaches it
            stream.flush()
    os._exit(code)
