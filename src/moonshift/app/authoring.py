"""Creating and changing a migration from a few options, without writing YAML: what
``moonshift create`` and ``moonshift update`` ask for. The spec they make goes through the same
checks as a spec file (references, cycles, named connections)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from moonshift.errors import InvalidInput
from moonshift.specfile import SpecFileError

DEFAULT_NAME = "migration"


@dataclass(frozen=True)
class Options:
    """What the options give; None leaves a value as it is (or out, for a new migration)."""

    name: str | None = None
    cron: str | None = None
    timezone: str | None = None
    source: str | None = None
    target: str | None = None
    dependencies: Sequence[str] | None = None
    dependency_strategy: str | None = None
    dependency_timeout: str | None = None

    def changes(self) -> dict[str, Any]:
        """The spec keys these options set."""
        found: dict[str, Any] = {}
        if self.name is not None:
            found["name"] = self.name
        for side in ("source", "target"):
            value = getattr(self, side)
            if value is not None:
                found[side] = endpoint(value, side)
        if self.dependencies is not None:
            found["depends_on"] = [{"migration": d} for d in self.dependencies]
        if self.dependency_strategy is not None:
            found["dependency_strategy"] = self.dependency_strategy
        if self.dependency_timeout is not None:
            found["dependency_timeout"] = self.dependency_timeout
        return found

    def schedule(self, old: dict[str, Any] | None) -> dict[str, Any] | None:
        """The schedule after these options: a cron replaces the kind, a time zone the
        zone; an empty cron removes the schedule."""
        if self.cron == "":
            return None
        schedule = dict(old or {})
        if self.cron is not None:
            zone = {"timezone": schedule["timezone"]} if "timezone" in schedule else {}
            schedule = {"cron": self.cron, **zone}
        if self.timezone is not None and schedule:
            schedule["timezone"] = self.timezone
        return schedule or None


def endpoint(value: str, side: str) -> dict[str, str]:
    """A database URL, or the id of a named connection."""
    value = value.strip()
    if not value:
        raise InvalidInput(side, "must be a database URL or a connection id")
    return {"url": value} if "://" in value else {"connection": value}


def slug_of(name: str) -> str:
    """An id from a name: ``Nightly Sync`` -> ``nightly-sync``."""
    slug = re.sub(r"[^a-z0-9_]+", "-", name.lower()).strip("-_")[:63].rstrip("-_")
    return slug or DEFAULT_NAME


def new_spec(migration_id: str | None, options: Options) -> dict[str, Any]:
    """A copy of every table from source to target; the id is the name's slug unless given."""
    if migration_id is None and not options.name:
        raise InvalidInput("name", "is required (or give the id)")
    migration_id = migration_id or slug_of(options.name or "")
    for side in ("source", "target"):
        if getattr(options, side) is None:
            raise InvalidInput(side, "is required: a database URL or a connection id")
    spec: dict[str, Any] = {"id": migration_id, "kind": "copy", **options.changes()}
    schedule = options.schedule(None)
    if options.timezone is not None and schedule is None:
        raise InvalidInput("schedule.timezone", "goes with a schedule: give a cron expression too")
    if schedule:
        spec["schedule"] = schedule
    return spec


def changed_spec(spec: dict[str, Any], options: Options) -> dict[str, Any]:
    updated = {**spec, **options.changes()}
    schedule = options.schedule(spec.get("schedule"))
    if schedule is None:
        updated.pop("schedule", None)
    else:
        updated["schedule"] = schedule
    return updated


def as_input(exc: SpecFileError) -> InvalidInput:
    """A spec check's first problem as bad input of its field (``depends_on[0].migration`` is
    the field ``depends_on.migration``), so that a face names the option that carries it."""
    problem = exc.problems[0]
    return InvalidInput(re.sub(r"\[\d+\]", "", problem.path) or None, problem.reason)
