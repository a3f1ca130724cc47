"""The nested layout: timing, triggers and dependencies written inside ``schedule:``.

Some teams write a migration's timing as one block (``schedule: {maintenance_windows,
behavior, recurring, trigger, dependencies, start_at, timezone}``). ``flatten`` moves each
part to the key of moonshift's one spec model (``windows``, ``window_behavior``,
``schedule: {cron}``, ``overlap``, ``trigger``, ``depends_on``, ``exclude_concurrent``)
and keeps where each came from, so that an error names the key the user wrote.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Loc = tuple[str | int, ...]

# The keys of the nested layout inside ``schedule:``; the rest are moonshift's own.
NESTED_KEYS = ("maintenance_windows", "behavior", "recurring", "trigger", "dependencies")

_BEHAVIOR = {
    "outside_window": "outside_window",
    "window_ending_warning": "ending_warning",
    "complete_current_batch": "complete_current_batch",
}
_RECURRING = ("enabled", "cron", "timezone", "behavior")
_RECURRING_BEHAVIOR = ("skip_if_running", "max_duration", "notify_on_skip")
_TRIGGER = ("type", "secret", "await_approval", "webhook_url")
_DEPENDENCIES = {"wait_for": "depends_on", "exclude_concurrent": "exclude_concurrent"}
_WINDOW = {"start_time": "start", "end_time": "end"}


@dataclass(frozen=True)
class Problem:
    loc: Loc
    reason: str


@dataclass
class Flattened:
    """The spec in moonshift's layout; ``renames`` maps a location in it to the location
    the user wrote (longest prefix first); ``problems`` are the layout's own."""

    data: Any
    renames: dict[Loc, Loc] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def written(self, loc: Loc) -> Loc:
        """Where the user wrote what ``loc`` names in the flattened spec."""
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.renames:
                return (*self.renames[loc[:end]], *loc[end:])
        return loc


def is_nested(data: Any) -> bool:
    schedule = data.get("schedule") if isinstance(data, Mapping) else None
    return isinstance(schedule, Mapping) and any(k in schedule for k in NESTED_KEYS)


def flatten(data: Any) -> Flattened:
    """``data`` in moonshift's layout (unchanged when it does not use the nested one)."""
    if not is_nested(data):
        return Flattened(data)
    out = _Builder({k: v for k, v in data.items() if k != "schedule"})
    schedule = dict(data["schedule"])
    rest = {k: v for k, v in schedule.items() if k not in NESTED_KEYS}
    out.renames[("schedule",)] = ("schedule",)
    for key in NESTED_KEYS:
        if key in schedule:
            getattr(out, key)(schedule[key], ("schedule", key), rest)
    if rest:
        out.data["schedule"] = rest
    return Flattened(out.data, out.renames, out.problems)


class _Builder:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.renames: dict[Loc, Loc] = {}
        self.problems: list[Problem] = []

    def put(self, key: str, value: Any, written: Loc) -> None:
        if key in self.data:
            self.problems.append(
                Problem(written, f'"{key}" is given too; write it once, in one of the two places')
            )
            return
        self.data[key] = value
        self.renames.setdefault((key,), written)

    def mapping(self, value: Any, written: Loc, known: Iterable[str]) -> dict[str, Any]:
        """``value`` if it is a mapping of known keys (a problem for each unknown one)."""
        if not isinstance(value, Mapping):
            self.problems.append(Problem(written, "must be a mapping"))
            return {}
        known = list(known)
        for key in value:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f'did you mean "{close[0]}"?' if close else f"known keys: {', '.join(known)}"
                self.problems.append(Problem((*written, key), f'unknown key "{key}"; {hint}'))
        return dict(value)

    def items(self, value: Any, written: Loc) -> list[Any]:
        if not isinstance(value, list):
            self.problems.append(Problem(written, "must be a list"))
            return []
        return value

    def maintenance_windows(self, value: Any, written: Loc, rest: dict[str, Any]) -> None:
        windows = []
        for index, item in enumerate(self.items(value, written)):
            if isinstance(item, Mapping):
                item = {_WINDOW.get(k, k): v for k, v in item.items()}
                for ours, theirs in (("start", "start_time"), ("end", "end_time")):
                    self.renames[("windows", index, ours)] = (*written, index, theirs)
            windows.append(item)
        self.put("windows", windows, written)

    def behavior(self, value: Any, written: Loc, rest: dict[str, Any]) -> None:
        given = self.mapping(value, written, _BEHAVIOR)
        for theirs, ours in _BEHAVIOR.items():
            self.renames[("window_behavior", ours)] = (*written, theirs)
        self.put("window_behavior", {_BEHAVIOR.get(k, k): v for k, v in given.items()}, written)

    def recurring(self, value: Any, written: Loc, rest: dict[str, Any]) -> None:
        given = self.mapping(value, written, _RECURRING)
        for key in ("cron", "timezone"):
            if key not in given:
                continue
            if key in rest and rest[key] != given[key]:
                self.problems.append(
                    Problem((*written, key), f"differs from schedule.{key} ({rest[key]})")
                )
            rest[key] = given[key]
            self.renames[("schedule", key)] = (*written, key)
        if "enabled" in given:
            self.put("enabled", given["enabled"], (*written, "enabled"))
        if "behavior" in given:
            self.recurring_behavior(given["behavior"], (*written, "behavior"))

    def recurring_behavior(self, value: Any, written: Loc) -> None:
        given = self.mapping(value, written, _RECURRING_BEHAVIOR)
        if "skip_if_running" in given:
            skip = given["skip_if_running"]
            where = (*written, "skip_if_running")
            if not isinstance(skip, bool):
                self.problems.append(Problem(where, f"must be true or false, got {skip!r}"))
            else:
                # Not skipping: the fire waits behind the running one (never two at once).
                self.put("overlap", "skip" if skip else "queue_one", where)
        for key in ("max_duration", "notify_on_skip"):
            if key in given:
                self.put(key, given[key], (*written, key))

    def trigger(self, value: Any, written: Loc, rest: dict[str, Any]) -> None:
        given = self.mapping(value, written, _TRIGGER)
        # webhook_url names where the trigger is received: moonshift serve decides that
        # (POST /v1/migrations/{id}/trigger), so it is not part of the spec.
        given.pop("webhook_url", None)
        self.put("trigger", given, written)

    def dependencies(self, value: Any, written: Loc, rest: dict[str, Any]) -> None:
        given = self.mapping(value, written, _DEPENDENCIES)
        for theirs, ours in _DEPENDENCIES.items():
            if theirs not in given:
                continue
            where = (*written, theirs)
            items = []
            for index, item in enumerate(self.items(given[theirs], where)):
                if isinstance(item, Mapping):
                    item = {("migration" if k == "migration_id" else k): v for k, v in item.items()}
                    self.renames[(ours, index, "migration")] = (*where, index, "migration_id")
                self.renames[(ours, index)] = (*where, index)
                items.append(item)
            self.put(ours, items, where)


def dotted(loc: Loc) -> str:
    """``("a", 0, "b")`` as ``a[0].b``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse_dotted(path: str) -> Loc:
    """``a[0].b`` as ``("a", 0, "b")``."""
    loc: list[str | int] = []
    for part in path.split("."):
        name, *indexes = part.replace("]", "").split("[")
        loc += [name] if name else []
        loc += [int(i) for i in indexes if i.isdigit()]
    return tuple(loc)
