"""What every command shares: the ``moonshift`` group, its app, and errors as exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar, overload

import click
from rich.markup import escape

from moonshift import __version__
from moonshift.app import Moonshift, Settings, views
from moonshift.app.runs import WindowsClosed
from moonshift.cli import output as o
from moonshift.errors import (
    Conflict,
    InvalidInput,
    MoonshiftError,
    NotFound,
    TerminalError,
    TransientError,
    Unavailable,
)
from moonshift.specfile import SpecFileError

F = TypeVar("F", bound=Callable[..., Any])
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
BAD_INPUT = 2
# Exit codes by kind: 2 for what the user must change in the command, 1 for a refusal or
# a failure.
EXIT_CODES: Mapping[type[MoonshiftError], int] = {
    InvalidInput: BAD_INPUT,
    NotFound: BAD_INPUT,
    Conflict: 1,
    Unavailable: 1,
    TransientError: 1,
    TerminalError: 1,
}


def exit_code(exc: MoonshiftError) -> int:
    return next((code for kind, code in EXIT_CODES.items() if isinstance(exc, kind)), 1)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")(
        func
    )


@overload
def command(func: F) -> F: ...


@overload
def command(*, flags: Mapping[str, str]) -> Callable[[F], F]: ...


def command(func: F | None = None, *, flags: Mapping[str, str] | None = None) -> Any:
    """Give a command its app, and turn moonshift's errors into messages and exit codes.

    ``flags`` names the option that carries each input field, so an error about a field
    speaks of the option the user typed (``end`` -> ``--end``).
    """

    def decorate(inner: F) -> F:
        @click.pass_context
        @wraps(inner)
        def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
            app: Moonshift = ctx.obj
            try:
                return inner(app, *args, **kwargs)
            except MoonshiftError as exc:
                fail(exc, kwargs.get("as_json", False), flags or {})
            finally:
                app.close()

        return wrapper  # type: ignore[return-value]

    return decorate(func) if func is not None else decorate


def fail(exc: MoonshiftError, as_json: bool, flags: Mapping[str, str] | None = None) -> None:
    problems = (
        [str(p) for p in exc.problems] if isinstance(exc, SpecFileError) else [said(exc, flags)]
    )
    if as_json:
        o.print_error(type(exc).__name__, problems)
    else:
        for problem in problems:
            o.err.print(f"[red]error:[/] {escape(problem)}", highlight=False)
    sys.exit(exit_code(exc))


def said(exc: MoonshiftError, flags: Mapping[str, str] | None) -> str:
    """The error's message, its field named as the option that carries it."""
    if isinstance(exc, InvalidInput) and exc.field and flags and exc.field in flags:
        return f"{flags[exc.field]}: {exc.reason}"
    if isinstance(exc, WindowsClosed):
        return f"{exc.closed}; start it then, or now with --ignore-windows ({exc.LEFT_ALONE})"
    return str(exc)


def ignore_windows_option(func: F) -> F:
    return click.option(
        "--ignore-windows",
        is_flag=True,
        help="Run now even outside every window; no window then pauses, fails or warns the "
        "run, to its end.",
    )(func)


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


def print_outcome(run: views.Run) -> None:
    duration = o.took(run.started_at, run.ended_at)
    if run.succeeded:
        o.out.print(f"run {run.id} [green]{run.state.value}[/] in {duration}")
        return
    o.out.print(f"run {run.id} [red]{run.state.value}[/]: {escape(run.reason or '')}")
    if run.error_tail:
        o.err.print(escape(run.error_tail), highlight=False)
        o.out.print(f"full output: moonshift logs {run.id} --stderr")


def finish(run: views.Run, as_json: bool) -> None:
    """Show how a run this command waited for ended; exit 1 unless it succeeded."""
    o.print_json(run) if as_json else print_outcome(run)
    if not run.succeeded:
        sys.exit(1)


def warn(warnings: list[str]) -> None:
    for warning in warnings:
        o.err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
