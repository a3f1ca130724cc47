"""Rendering for the CLI: Rich tables for people, JSON for programs."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from moonshift.domain.durations import format_duration
from moonshift.domain.secrets import redact_url

# Piped output (logs, CI) gets room for wide tables; a terminal keeps its own width.
_PIPE_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 120
out = Console(soft_wrap=True, width=_PIPE_WIDTH)
err = Console(stderr=True, soft_wrap=True)


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


def print_json(value: Any) -> None:
    print(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False))


def table(*columns: str, title: str | None = None) -> Table:
    """A table whose last column wraps; the others keep to one line."""
    grid = Table(title=title, title_justify="left", header_style="bold")
    for index, column in enumerate(columns):
        last = index == len(columns) - 1
        grid.add_column(column, overflow="fold", no_wrap=not last)
    return grid


def when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def local(value: datetime | None, zone: str) -> str:
    """An instant in a zone: ``2026-03-08 03:00 EDT``."""
    if value is None:
        return "-"
    shown = value.astimezone(ZoneInfo(zone))
    return f"{shown:%Y-%m-%d %H:%M} {shown.tzname()}"


def in_utc(value: datetime) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M}Z"


def no_fires(kind: str | None) -> str:
    return {
        None: "no schedule: it runs only when started by hand (moonshift run-now)",
        "event": "event schedule: it runs when a matching event arrives (moonshift trigger)",
        "immediate": "immediate: it runs once, as soon as a daemon sees it",
    }[kind]


def window_note(decision: Any, zone: str) -> str:
    if decision.window is None:
        return "-" if decision.reason == "no windows" else "[yellow]outside[/]"
    if decision.delayed:
        return "[yellow]outside[/]"
    return (
        f"{decision.window.name}, closes {local(decision.stop_at, zone)}"
        if decision.stop_at
        else decision.window.name
    )


def start_note(decision: Any, zone: str) -> str:
    if decision.action.value == "fail":
        return f"[red]fails[/]: {decision.reason}"
    if decision.delayed:
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


def step(entry: Any) -> str:
    """An audit entry's step: ``start: created -> analyzing`` or just its action."""
    if entry.to_state is None:
        return str(entry.action)
    origin = entry.from_state or "new"
    return f"{entry.action}: {origin} → {styled_state(entry.to_state)}"


def styled_state(state: str) -> str:
    style = STATE_STYLES.get(state)
    return f"[{style}]{state}[/]" if style else state


def redact_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec safe to show: endpoint URLs with any literal password masked."""
    shown = dict(spec)
    for side in ("source", "target"):
        if isinstance(shown.get(side), dict) and "url" in shown[side]:
            shown[side] = {**shown[side], "url": redact_url(shown[side]["url"])}
    return shown
