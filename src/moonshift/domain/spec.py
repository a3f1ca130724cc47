"""Migration specs: what a user writes in YAML, validated into immutable models.

Later capabilities (schedule, windows, depends_on, copy, notifications) add fields here.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from moonshift.domain.copy_spec import CopySpec
from moonshift.domain.policies import (
    DependencySpec,
    DependencyStrategy,
    ExclusionSpec,
    MisfireSpec,
    Overlap,
    PreflightSpec,
    RetrySpec,
)
from moonshift.domain.schedule import (
    ScheduleSpec,
    WindowBehaviorSpec,
    WindowSpec,
    window_set,
)
from moonshift.domain.secrets import literal_secret_in_url, redact_url, references
from moonshift.domain.spec_base import Duration, FieldProblem, Slug, SpecModel
from moonshift.timing import Trigger, WindowBehavior, WindowSet

SUPPORTED_BACKENDS = ("postgresql", "mysql", "mariadb", "sqlite")


class Endpoint(SpecModel):
    """A database: an SQLAlchemy URL (``${ENV_VAR}`` allowed) and a display name."""

    url: str
    name: str | None = None

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        backend = _backend_of(url)
        if backend is None:
            raise ValueError(
                "must be a database URL like postgresql+psycopg://user@host/db, "
                f'got "{redact_url(url)}"'
            )
        if backend not in SUPPORTED_BACKENDS:
            raise ValueError(
                f'unsupported database "{backend}"; moonshift supports '
                + ", ".join(SUPPORTED_BACKENDS)
            )
        where = literal_secret_in_url(url)
        if where:
            raise ValueError(
                f"{where} is written in plain text; give it as an environment reference "
                "such as ${PGPASSWORD} so that no secret is stored"
            )
        return url

    @property
    def backend(self) -> str:
        return _backend_of(self.url) or ""

    @property
    def display(self) -> str:
        return self.name or redact_url(self.url)


class CommandSpec(SpecModel):
    """A command: an argv list (run directly) or a string (run by ``/bin/sh -c``)."""

    run: tuple[str, ...] | str
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    timeout: Duration | None = None
    kill_grace: Duration = timedelta(seconds=10)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str | list):
            return {"run": data}
        return data

    @field_validator("run")
    @classmethod
    def _not_empty(cls, run: tuple[str, ...] | str) -> tuple[str, ...] | str:
        if not run or (isinstance(run, str) and not run.strip()):
            raise ValueError("must not be empty")
        return run

    @field_validator("timeout", "kill_grace")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value

    @property
    def argv(self) -> tuple[str, ...]:
        return ("/bin/sh", "-c", self.run) if isinstance(self.run, str) else self.run


class StepsSpec(SpecModel):
    """A test job: ``count`` steps of ``every`` each, checkpointed after each step."""

    count: int = Field(ge=1, le=1_000_000)
    every: Duration = timedelta(seconds=1)


class MigrationSpec(SpecModel):
    """One migration, as applied to the state store."""

    id: Slug
    name: str = ""
    description: str = ""
    tags: tuple[Slug, ...] = ()
    enabled: bool = True
    kind: Literal["copy", "command", "steps"]
    source: Endpoint | None = None
    target: Endpoint | None = None
    command: CommandSpec | None = None
    copy_: CopySpec | None = Field(default=None, alias="copy")
    steps: StepsSpec | None = None
    schedule: ScheduleSpec | None = None
    windows: tuple[WindowSpec, ...] | None = None
    window_behavior: WindowBehaviorSpec = Field(default_factory=WindowBehaviorSpec)
    overlap: Overlap = Overlap.SKIP
    notify_on_skip: bool = False
    max_duration: Duration | None = None
    misfire: MisfireSpec = Field(default_factory=MisfireSpec)
    pool: Slug | None = None
    depends_on: tuple[DependencySpec, ...] = ()
    dependency_strategy: DependencyStrategy = DependencyStrategy.FAIL
    dependency_timeout: Duration = timedelta(hours=1)
    exclude_concurrent: tuple[ExclusionSpec, ...] = ()
    retries: RetrySpec = Field(default_factory=RetrySpec)
    preflight: PreflightSpec = Field(default_factory=PreflightSpec)

    @model_validator(mode="after")
    def _kind_needs(self) -> MigrationSpec:
        for field_name in ("depends_on", "exclude_concurrent"):
            for index, item in enumerate(getattr(self, field_name)):
                if item.migration == self.id:
                    raise FieldProblem(
                        f"{field_name}[{index}].migration", "names this migration itself"
                    )
        if self.windows is not None and not self.windows:
            raise FieldProblem(
                "windows", "must list at least one window; leave it out to run at any time"
            )
        if self.kind == "steps" and self.steps is None:
            raise FieldProblem("steps", "is required when kind is steps")
        if self.kind == "command" and self.command is None:
            raise FieldProblem("command", "is required when kind is command")
        if self.kind == "copy":
            for side in ("source", "target"):
                if getattr(self, side) is None:
                    raise FieldProblem(side, "is required when kind is copy")
            if self.command is not None:
                raise FieldProblem("command", "is only for kind command")
        elif self.copy_ is not None:
            raise FieldProblem("copy", "is only for kind copy")
        return self

    @property
    def copy_spec(self) -> CopySpec:
        """The copy settings (defaults when the spec gives none)."""
        return self.copy_ or CopySpec()

    @property
    def title(self) -> str:
        return self.name or self.id

    @property
    def timezone(self) -> str:
        """The migration's zone: its schedule's, else UTC. Windows without one use it."""
        return self.schedule.timezone if self.schedule else "UTC"

    def trigger(self) -> Trigger | None:
        return self.schedule.trigger() if self.schedule else None

    def window_set(self) -> WindowSet | None:
        return window_set(self.windows or (), self.timezone)

    def behavior(self) -> WindowBehavior:
        return self.window_behavior.behavior()

    def notes(self) -> list[tuple[str, str]]:
        """Warnings for the spec check (field path, text)."""
        if self.schedule is None:
            return []
        return [(f"schedule.{path}", text) for path, text in self.schedule.notes()]

    def environment_references(self) -> dict[str, list[str]]:
        """Field path -> the ``${NAME}`` variables it refers to."""
        found: dict[str, list[str]] = {}
        for side in ("source", "target"):
            endpoint: Endpoint | None = getattr(self, side)
            if endpoint and references(endpoint.url):
                found[f"{side}.url"] = references(endpoint.url)
        if self.command:
            for key, value in self.command.env.items():
                if references(value):
                    found[f"command.env.{key}"] = references(value)
        return found

    def canonical(self) -> dict[str, Any]:
        """A JSON-ready form in which equal specs compare equal."""
        return self.model_dump(mode="json", exclude_defaults=True, by_alias=True)


def _backend_of(url: str) -> str | None:
    match = re.match(r"^([A-Za-z][A-Za-z0-9]*)(?:\+[A-Za-z0-9_]+)?://", url)
    return match.group(1).lower() if match else None


def changed_fields(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted paths of the values that differ between two canonical specs."""
    changed = []
    for key in sorted(set(old) | set(new)):
        path = f"{prefix}{key}"
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            changed += changed_fields(a, b, f"{path}.")
        elif a != b:
            changed.append(path)
    return changed
