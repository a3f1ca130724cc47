"""Migration specs: what a user writes in YAML, validated into immutable models.

Later capabilities (schedule, windows, depends_on, copy, notifications) add fields here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from moonshift.domain.approval import ApprovalSpec, needed
from moonshift.domain.copy_spec import CopySpec
from moonshift.domain.nested_schedule import dotted, flatten
from moonshift.domain.notices import AlertSpec, ChannelSpec, NotifyRule
from moonshift.domain.policies import (
    DependencySpec,
    DependencyStrategy,
    ExclusionSpec,
    MisfireSpec,
    Overlap,
    PreflightSpec,
    RetrySpec,
)
from moonshift.domain.risk import RiskSpec, Severity
from moonshift.domain.schedule import (
    ScheduleSpec,
    WindowBehaviorSpec,
    WindowSpec,
    window_set,
)
from moonshift.domain.secrets import is_reference, literal_secret_in_url, redact_url, references
from moonshift.domain.spec_base import (
    CallablePath,
    Duration,
    FieldProblem,
    Flag,
    Lasting,
    Slug,
    SpecModel,
    Whole,
)
from moonshift.domain.validation_spec import ValidationSpec
from moonshift.errors import TerminalError
from moonshift.timing import Trigger, WindowBehavior, WindowSet

SUPPORTED_BACKENDS = ("postgresql", "mysql", "mariadb", "sqlite")


def _check_url(url: str) -> str:
    """A database URL moonshift supports, with no literal secret in it."""
    backend = backend_of(url)
    if backend is None:
        raise ValueError(
            "must be a database URL like postgresql+psycopg://user@host/db, "
            f'got "{redact_url(url)}"'
        )
    if backend not in SUPPORTED_BACKENDS:
        raise ValueError(
            f'unsupported database "{backend}"; moonshift supports ' + ", ".join(SUPPORTED_BACKENDS)
        )
    where = literal_secret_in_url(url)
    if where:
        raise ValueError(
            f"{where} is written in plain text; give it as an environment reference "
            "such as ${PGPASSWORD} so that no secret is stored"
        )
    return url


class Endpoint(SpecModel):
    """A database: an SQLAlchemy URL (``${ENV_VAR}`` allowed) or a named connection, and a
    display name. Where a run needs the URL, the connection's is filled in
    (``MigrationSpec.with_connections``)."""

    url: str | None = None
    connection: Slug | None = None
    name: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, url: str | None) -> str | None:
        return None if url is None else _check_url(url)

    @model_validator(mode="after")
    def _one_place(self) -> Endpoint:
        if (self.url is None) == (self.connection is None):
            raise FieldProblem("url", "give either url or connection (a named connection's id)")
        return self

    @property
    def location(self) -> str:
        """The URL; TerminalError while it is a connection not yet filled in."""
        if self.url is None:
            raise TerminalError(f'connection "{self.connection}" was not looked up')
        return self.url

    @property
    def backend(self) -> str:
        return backend_of(self.url or "") or ""

    @property
    def display(self) -> str:
        return self.name or (redact_url(self.url) if self.url else f"connection {self.connection}")


CONNECTION_TYPES = SUPPORTED_BACKENDS


class ConnectionSpec(SpecModel):
    """A named connection (``connections:`` in a spec file): migrations name it by ``id``."""

    id: Slug
    type: Literal["postgresql", "mysql", "mariadb", "sqlite"]
    url: str
    name: str = ""

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        return _check_url(url)

    @model_validator(mode="after")
    def _type_matches(self) -> ConnectionSpec:
        backend = backend_of(self.url)
        if backend != self.type and {backend, self.type} != {"mysql", "mariadb"}:
            raise FieldProblem("url", f"is a {backend} URL, but type is {self.type}")
        return self


class TriggerSpec(SpecModel):
    """How a migration is started from outside: ``{type: webhook, secret: ${TRIGGER_SECRET}}``
    (signed requests to ``POST /v1/migrations/{id}/trigger`` start a run) or ``{type: api}``
    (started by an API call); ``await_approval``: a run so started waits for an approval."""

    type: Literal["webhook", "api"]
    secret: str | None = None
    await_approval: Flag = False

    @field_validator("secret")
    @classmethod
    def _reference(cls, secret: str | None) -> str | None:
        if secret is not None and not is_reference(secret):
            raise ValueError(
                "must be an environment reference such as ${TRIGGER_SECRET}, so that no "
                "secret is stored"
            )
        return secret

    @model_validator(mode="after")
    def _secret_for_webhooks(self) -> TriggerSpec:
        if self.type == "webhook" and self.secret is None:
            raise FieldProblem("secret", "is required when type is webhook")
        if self.type == "api" and self.secret is not None:
            raise FieldProblem(
                "secret", "is only for type webhook; an api trigger uses the API's keys"
            )
        return self


class CommandSpec(SpecModel):
    """A command: an argv list (run directly) or a string (run by ``/bin/sh -c``)."""

    run: tuple[str, ...] | str
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    timeout: Lasting | None = None
    kill_grace: Lasting = timedelta(seconds=10)

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

    @model_validator(mode="after")
    def _passable(self) -> CommandSpec:
        """What the operating system would refuse when the run starts, refused now."""
        runs = {"run": self.run} if isinstance(self.run, str) else dict(enumerate(self.run))
        texts = [(f"run[{i}]" if isinstance(i, int) else i, text) for i, text in runs.items()]
        texts += [(f"env.{key}", value) for key, value in self.env.items()]
        texts += [("cwd", self.cwd or "")]
        for path, text in texts:
            if "\0" in text:
                raise FieldProblem(path, "holds a NUL byte, which no program can be given")
        for key in self.env:
            if not key or "=" in key or "\0" in key:
                raise FieldProblem(
                    "env", f"{json.dumps(key)} cannot name a variable (empty, or with = or NUL)"
                )
        return self

    @property
    def argv(self) -> tuple[str, ...]:
        return ("/bin/sh", "-c", self.run) if isinstance(self.run, str) else self.run


class StepsSpec(SpecModel):
    """A test job: ``count`` steps of ``every`` each, checkpointed after each step."""

    count: Whole = Field(ge=1, le=1_000_000)
    every: Duration = timedelta(seconds=1)


class MigrationSpec(SpecModel):
    """One migration, as applied to the state store."""

    id: Slug
    name: str = ""
    description: str = ""
    tags: tuple[Slug, ...] = ()
    enabled: Flag = True
    kind: Literal["copy", "command", "steps", "python"]
    source: Endpoint | None = None
    target: Endpoint | None = None
    command: CommandSpec | None = None
    copy_: CopySpec | None = Field(default=None, alias="copy")
    steps: StepsSpec | None = None
    callable: CallablePath | None = None
    schedule: ScheduleSpec | None = None
    windows: tuple[WindowSpec, ...] | None = None
    window_behavior: WindowBehaviorSpec = Field(default_factory=WindowBehaviorSpec)
    overlap: Overlap = Overlap.SKIP
    notify_on_skip: Flag = False
    notify: tuple[NotifyRule, ...] = ()
    alerts: AlertSpec = Field(default_factory=AlertSpec)
    max_duration: Lasting | None = None
    misfire: MisfireSpec = Field(default_factory=MisfireSpec)
    pool: Slug | None = None
    depends_on: tuple[DependencySpec, ...] = ()
    dependency_strategy: DependencyStrategy = DependencyStrategy.FAIL
    dependency_timeout: Duration = timedelta(hours=1)
    exclude_concurrent: tuple[ExclusionSpec, ...] = ()
    retries: RetrySpec = Field(default_factory=RetrySpec)
    preflight: PreflightSpec = Field(default_factory=PreflightSpec)
    trigger_: TriggerSpec | None = Field(default=None, alias="trigger")
    validation: ValidationSpec | None = None
    approval: ApprovalSpec = Field(default_factory=ApprovalSpec)
    risk: RiskSpec = Field(default_factory=RiskSpec)

    @model_validator(mode="before")
    @classmethod
    def _nested_layout(cls, data: Any) -> Any:
        """Timing written inside ``schedule:`` (see ``nested_schedule``) is moved to its keys."""
        flat = flatten(data)
        if flat.problems:
            first = flat.problems[0]
            raise FieldProblem(dotted(first.loc), first.reason)
        return flat.data

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
        if (self.kind == "python") != (self.callable is not None):
            raise FieldProblem(
                "callable",
                "is required when kind is python"
                if self.kind == "python"
                else "is for kind python",
            )
        if self.kind == "copy":
            for side in ("source", "target"):
                if getattr(self, side) is None:
                    raise FieldProblem(side, "is required when kind is copy")
            if self.command is not None:
                raise FieldProblem("command", "is only for kind command")
        elif self.copy_ is not None:
            raise FieldProblem("copy", "is only for kind copy")
        elif self.validation is not None:
            raise FieldProblem("validation", "is only for kind copy")
        return self

    @property
    def copy_spec(self) -> CopySpec:
        """The copy settings (defaults when the spec gives none)."""
        return self.copy_ or CopySpec()

    @property
    def validation_spec(self) -> ValidationSpec:
        """The validation settings (defaults when the spec gives none)."""
        return self.validation or ValidationSpec()

    @property
    def title(self) -> str:
        return self.name or self.id

    @property
    def timezone(self) -> str:
        """The migration's zone: its schedule's, else UTC. Windows without one use it."""
        return self.schedule.timezone if self.schedule else "UTC"

    def trigger(self) -> Trigger | None:
        return self.schedule.trigger() if self.schedule else None

    @property
    def webhook(self) -> TriggerSpec | None:
        """The webhook trigger, if the migration has one."""
        return self.trigger_ if self.trigger_ and self.trigger_.type == "webhook" else None

    def approvals_needed(self, started_by: str, worst: Severity | None = None) -> int:
        """How many approvals a run needs before it runs (0: none). ``started_by``: the
        run's trigger (``EVENT`` for a webhook, ``MANUAL`` for an API or CLI start); a
        trigger with ``await_approval`` makes the runs it starts wait. ``worst``: its plan's
        most severe risk finding, for ``approval.on_risk``."""
        trigger = self.trigger_
        awaits = (
            trigger is not None
            and trigger.await_approval
            and started_by == {"webhook": "EVENT", "api": "MANUAL"}[trigger.type]
        )
        return needed(self.approval, await_approval=awaits, worst=worst)

    def connection_names(self) -> dict[str, str]:
        """Field path -> the named connection it refers to."""
        return {
            f"{side}.connection": endpoint.connection
            for side in ("source", "target")
            if (endpoint := getattr(self, side)) is not None and endpoint.connection
        }

    def with_connections(self, urls: Mapping[str, str]) -> MigrationSpec:
        """This spec with each named connection's URL filled in; TerminalError naming the
        field when a connection does not exist."""
        update = {}
        for side in ("source", "target"):
            endpoint: Endpoint | None = getattr(self, side)
            if endpoint is None or endpoint.connection is None:
                continue
            if endpoint.connection not in urls:
                raise TerminalError(f'{side}.connection: no connection "{endpoint.connection}"')
            update[side] = endpoint.model_copy(update={"url": urls[endpoint.connection]})
        return self.model_copy(update=update) if update else self

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
            if endpoint and endpoint.url and references(endpoint.url):
                found[f"{side}.url"] = references(endpoint.url)
        if self.command:
            for key, value in self.command.env.items():
                if references(value):
                    found[f"command.env.{key}"] = references(value)
        if self.trigger_ and self.trigger_.secret:
            found["trigger.secret"] = references(self.trigger_.secret)
        return found

    def canonical(self) -> dict[str, Any]:
        """A JSON-ready form in which equal specs compare equal."""
        return self.model_dump(mode="json", exclude_defaults=True, by_alias=True)


def backend_of(url: str) -> str | None:
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


class SpecDocument(SpecModel):
    """A spec file's top level: one field per sibling key. Each migration is validated on its
    own, so that its problems are located within it."""

    migrations: tuple[Any, ...] = ()
    connections: tuple[ConnectionSpec, ...] = ()
    channels: tuple[ChannelSpec, ...] = ()
    # The notify rules of every migration in the file that gives none of its own.
    notify: tuple[NotifyRule, ...] = ()
