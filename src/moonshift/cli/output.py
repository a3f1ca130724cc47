"""Rendering for the CLI: Rich tables for people, JSON for programs."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from moonshift.app.views import AuditEntry, StartDecision, View
from moonshift.domain.durations import format_duration

# Piped output (logs, CI) gets room for wide tables; a terminal keeps its own width.
_PIPE_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 120
out = Console(soft_wrap=True, width=_PIPE_WIDTH)
err = Console(stderr=True, soft_wrap=True)


def print_json(value: View | Sequence[View]) -> None:
    """A view (or a list of them) as JSON: exactly what the REST API returns for it."""
    if isinstance(value, View):
        data: Any = value.model_dump(mode="json")
    else:
        data = [v.model_dump(mode="json") for v in value]
    print(json.dumps(data, indent=2, ensure_ascii=False))


def print_error(kind: str, problems: list[str]) -> None:
    print(json.dumps({"error": kind, "problems": problems}, indent=2, ensure_ascii=False))


def table(*columns: str, title: str | None = None) -> Table:
    """A table whose last column wraps; the others keep to one line."""
    grid = Table(title=title, title_justify="left", header_style="bold")
    for index, column in enumerate(columns):
        last = index == len(columns) - 1
        grid.add_column(column, overflow="fold", no_wrap=not last)
    return grid


def when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def local(value: datetime | None, zone: str, *, seconds: bool = False) -> str:
    """An instant in a zone: ``2026-03-08 03:00 EDT`` (``03:00:05 EDT`` with ``seconds``)."""
    if value is None:
        return "-"
    shown = value.astimezone(ZoneInfo(zone))
    return f"{shown:%Y-%m-%d %H:%M{':%S' if seconds else ''}} {shown.tzname()}"


def in_utc(value: datetime, *, seconds: bool = False) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M{':%S' if seconds else ''}}Z"


def needs_seconds(values: Sequence[datetime]) -> bool:
    """Whether minutes alone would show different instants alike."""
    return any(v.second or v.microsecond for v in values)


def no_fires(kind: str | None) -> str:
    return {
        None: "no schedule: it runs only when started by hand (moonshift run-now)",
        "event": "event schedule: it runs when a matching event arrives (moonshift trigger)",
        "immediate": "immediate: it runs once, as soon as a daemon sees it",
    }[kind]


def window_note(decision: StartDecision, zone: str) -> str:
    if decision.window is None:
        return "-" if decision.reason == "no windows" else "[yellow]outside[/]"
    if decision.delayed:
        return "[yellow]outside[/]"
    return (
        f"{decision.window.name}, closes {local(decision.stop_at, zone)}"
        if decision.stop_at
        else decision.window.name
    )


def start_note(decision: StartDecision, zone: str) -> str:
    if decision.action.value == "fail":
        return f"[red]fails[/]: {decision.reason}"
    if decision.delayed and decision.window is not None:
        return f"[yellow]{local(decision.start_at, zone)}[/] ({decision.window.name})"
    return "on time"


def took(start: datetime | None, end: datetime | None) -> str:
    if not start or not end:
        return "-"
    seconds = (end - start).total_seconds()
    return (
        f"{seconds:.1f}s" if seconds < 120 else format_duration(timedelta(seconds=round(seconds)))
    )


STATE_STYLES = {
    "completed": "green",
    "certified": "bold green",
    "failed": "red",
    "cancelled": "yellow",
    "running": "cyan",
    "paused": "magenta",
    "idle": "dim",
}


def step(entry: AuditEntry) -> str:
    """An audit entry's step: ``start: created -> analyzing`` or just its action."""
    if entry.to_state is None:
        return str(entry.action)
    origin = entry.from_state or "new"
    return f"{entry.action}: {origin} → {styled_state(entry.to_state)}"


def styled_state(state: str) -> str:
    style = STATE_STYLES.get(state)
    return f"[{style}]{state}[/]" if style else state
