"""Migrations: validate and apply spec files, list, show, enable, disable, delete, and the
dependency graph between them."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from moonshift.app import views
from moonshift.app.authoring import Options, as_input, changed_spec, new_spec
from moonshift.app.connections import Connections
from moonshift.app.context import Context, Family
from moonshift.app.notifications import Notifications
from moonshift.app.paging import page
from moonshift.app.schedules import save_spec, sync_schedule, validated
from moonshift.domain import dag
from moonshift.domain.lifecycle import State
from moonshift.domain.spec import MigrationSpec
from moonshift.errors import Conflict, InvalidInput, PreconditionFailed
from moonshift.specfile import (
    LoadedSpec,
    LoadResult,
    SpecFileError,
    SpecProblem,
    cycle_problems,
    dump_spec,
    load_document,
    load_files,
    load_text,
)
from moonshift.store.records import OverviewRecord
from moonshift.timing import Once

IDLE = "idle"
STATUSES = (IDLE, *(s.value for s in State))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: mappings merge key by key, null removes, the rest
    replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _overview_row(record: OverviewRecord, now: datetime) -> views.OverviewRow:
    spec = MigrationSpec.model_validate(record.spec)
    windows = spec.window_set()
    tables = record.progress.tables.values() if record.progress else ()
    return views.OverviewRow(
        id=record.id,
        name=record.name,
        kind=record.kind,
        enabled=record.enabled,
        tags=record.tags,
        status=record.state.value if record.state else IDLE,
        run=record.run_id,
        rows=sum(t.rows for t in tables),
        total=sum(t.total for t in tables),
        next_fire_at=record.next_fire_at,
        schedule=record.schedule_status,
        window=None if windows is None else "open" if windows.current(now) else "closed",
        timezone=spec.timezone,
        open_errors=record.open_errors,
        open_alerts=record.open_alerts,
    )


def _past_start(item: LoadedSpec, now: datetime) -> SpecProblem | None:
    """A warning for a ``start_at`` already past: such a migration starts at once."""
    trigger = item.spec.trigger()
    if not isinstance(trigger, Once) or trigger.instant > now:
        return None
    when = trigger.instant.isoformat()
    return SpecProblem(
        item.file,
        item.line_of("schedule.start_at"),
        item.written("schedule.start_at"),
        f"{when} is in the past: the migration starts as soon as a daemon runs",
    )


class Migrations(Family):
    def __init__(
        self, ctx: Context, connections: Connections, notifications: Notifications
    ) -> None:
        super().__init__(ctx)
        self.connections = connections
        self.notifications = notifications

    def validate(self, paths: Iterable[str | Path]) -> views.Validation:
        """Check spec files without touching the state store."""
        loaded = self._load(paths)
        return views.Validation(
            migrations=[s.spec.id for s in loaded.specs],
            warnings=[str(w) for w in loaded.warnings],
        )

    def _load(self, paths: Iterable[str | Path]) -> LoadResult:
        return load_files(paths, self.ctx.environ)

    def apply(self, paths: Iterable[str | Path], *, actor: str) -> views.ApplyReport:
        """Validate every file first (dependencies too); only when all is well, write."""
        return self._apply_loaded(self._load(paths), actor)

    def apply_document(self, text: str, *, actor: str) -> views.ApplyReport:
        """Apply a spec document given as text (YAML, or JSON): its migrations and named
        connections, all validated before anything is written."""
        return self._apply_loaded(load_document(text, "<request>", self.ctx.environ), actor)

    def _apply_loaded(self, loaded: LoadResult, actor: str) -> views.ApplyReport:
        self._check_references(loaded)
        connections = [
            self.connections.put(c.spec, actor=actor, source_file=c.file)
            for c in loaded.connections
        ]
        channels = [
            self.notifications.put_channel(c.spec, actor=actor, source_file=c.file)
            for c in loaded.channels
        ]
        results = [
            self.apply_spec(item.spec, actor=actor, source_file=item.file) for item in loaded.specs
        ]
        now = self.ctx.clock.now()
        past = [
            _past_start(item, now)
            for item, result in zip(loaded.specs, results, strict=True)
            if result.action != "unchanged"
        ]
        return views.ApplyReport(
            results=results,
            warnings=[str(w) for w in loaded.warnings] + [str(p) for p in past if p],
            connections=connections,
            channels=channels,
        )

    def create(
        self, options: Options, *, actor: str, migration_id: str | None = None
    ) -> views.Applied:
        """A new copy of every table from ``options.source`` to ``options.target`` (its id:
        the name's slug unless given); Conflict if the id is taken."""
        data = new_spec(migration_id, options)
        if data["id"] in {m.id for m in self.store.migration_headers(after=None, limit=None)}:
            raise Conflict(
                f'migration "{data["id"]}" exists; change it with `moonshift update {data["id"]}`'
            )
        return self._save_checked(data, actor)

    def update(self, migration_id: str, options: Options, *, actor: str) -> views.Applied:
        """Change what ``options`` gives of a migration's spec (a new version)."""
        record = self.store.get_migration(migration_id)
        return self._save_checked(changed_spec(record.spec, options), actor)

    def _save_checked(self, data: dict[str, Any], actor: str) -> views.Applied:
        """Save a spec made from options after a spec file's checks; problems are bad input
        of the field they concern."""
        try:
            loaded = LoadResult(specs=[LoadedSpec(validated(data), "<options>", 1)])
            return self._apply_loaded(loaded, actor).results[0]
        except SpecFileError as exc:
            raise as_input(exc) from None

    def apply_data(self, data: dict[str, Any], *, actor: str) -> views.Applied:
        """Apply one migration given as data, checked as a spec file is (its references,
        cycles and connections too)."""
        return self._save_checked(data, actor)

    def apply_text(self, text: str, *, actor: str) -> views.Applied:
        """Apply one migration given as YAML text."""
        [spec] = load_text(text)
        return self.apply_spec(spec, actor=actor)

    def apply_spec(
        self, spec: MigrationSpec, *, actor: str, source_file: str | None = None
    ) -> views.Applied:
        return save_spec(self.ctx, spec, actor=actor, source_file=source_file)

    def patch(
        self, migration_id: str, changes: dict[str, Any], *, actor: str, if_match: str | None
    ) -> views.Applied:
        """Change a migration's spec by a JSON merge patch (RFC 7396: a null removes a key).
        With ``if_match`` (its etag as read) PreconditionFailed if it changed since."""
        record = self.store.get_migration(migration_id)
        if if_match is not None and if_match != views.etag(record):
            raise PreconditionFailed(
                f'migration "{migration_id}" changed since it was read; read it again'
            )
        merged = merge_patch(record.spec, changes)
        if merged.get("id") != migration_id:
            raise InvalidInput("id", "cannot be changed; create a migration with the new id")
        expect = (record.version, record.updated_at) if if_match is not None else None
        return save_spec(self.ctx, validated(merged), actor=actor, expect=expect)

    def _check_references(self, loaded: LoadResult) -> None:
        """Dependencies and exclusions must name migrations that exist, connections the
        connections defined here or before; no cycles."""
        graph = self.dependency_edges()
        known = set(graph) | {item.spec.id for item in loaded.specs}
        connections = {c.spec.id for c in loaded.connections}
        wanted = {n for item in loaded.specs for n in item.spec.connection_names().values()}
        connections |= set(self.store.connection_urls(sorted(wanted - connections)))
        problems = [
            SpecProblem(item.file, item.line_of(path), path, f'no connection "{name}"')
            for item in loaded.specs
            for path, name in item.spec.connection_names().items()
            if name not in connections
        ]
        channels = {c.spec.id for c in loaded.channels} | {c.id for c in self.store.list_channels()}
        problems += [
            SpecProblem(
                item.file,
                item.line_of(f"notify[{i}].channel"),
                f"notify[{i}].channel",
                f'no channel "{rule.channel}"',
            )
            for item in loaded.specs
            for i, rule in enumerate(item.spec.notify)
            if rule.channel not in channels
        ]
        for item in loaded.specs:
            for key in ("depends_on", "exclude_concurrent"):
                for i, ref in enumerate(getattr(item.spec, key)):
                    if ref.migration not in known:
                        problems.append(
                            SpecProblem(
                                item.file,
                                item.line_of(f"{key}[{i}].migration"),
                                f"{key}[{i}].migration",
                                f'no migration "{ref.migration}"',
                            )
                        )
        problems += cycle_problems(graph, loaded.specs)
        if problems:
            raise SpecFileError(problems)

    def dependency_edges(self) -> dict[str, list[str]]:
        """migration -> the migrations it depends on."""
        return {
            m.id: [d["migration"] for d in m.spec.get("depends_on", [])]
            for m in self.store.list_migrations()
        }

    def dependencies(self, migration_id: str | None = None) -> views.DependencyGraph:
        """The whole graph, both ways; NotFound when ``migration_id`` names none."""
        edges = self.dependency_edges()
        if migration_id is not None and migration_id not in edges:
            self.store.get_migration(migration_id)
        return views.DependencyGraph(depends_on=edges, dependents=dag.dependents(edges))

    def page(
        self, *, status: str | None = None, tag: str | None = None, limit: int, after: str | None
    ) -> views.Page[views.MigrationSummary]:
        """A page of ``list``; ``next`` is the ``after`` of the next page."""
        filtered = status is not None or tag is not None
        found = self.list(
            status=status, tag=tag, after=after, limit=None if filtered else limit + 1
        )
        return page(found, limit=limit, after=after, key=lambda m: m.id)

    def overview(
        self,
        *,
        search: str | None = None,
        status: str | None = None,
        limit: int = 50,
        after: str | None = None,
    ) -> views.Page[views.OverviewRow]:
        """A page of migrations as an operator scans them (state, progress, next fire,
        window open or closed, open errors and alerts), read in one query however many
        there are."""
        if status is not None and status not in STATUSES:
            raise InvalidInput("status", f'unknown status "{status}"; one of {", ".join(STATUSES)}')
        found = self.store.overview(
            after=after,
            limit=limit + 1,
            search=search.strip() if search else None,
            state=None if status in (None, IDLE) else State(status),
            never_ran=status == IDLE,
        )
        now = self.ctx.clock.now()
        rows = [_overview_row(record, now) for record in found[:limit]]
        more = len(found) > limit
        return views.Page[views.OverviewRow](items=rows, next=rows[-1].id if more else None)

    def list(
        self,
        *,
        status: str | None = None,
        tag: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[views.MigrationSummary]:
        """Migrations with the state of their latest run (``idle`` if none), by id
        (``after``: those past that id; ``limit``: at most that many, before filtering)."""
        if status is not None and status not in STATUSES:
            raise InvalidInput("status", f'unknown status "{status}"; one of {", ".join(STATUSES)}')
        latest = self.store.latest_runs()
        summaries = []
        for m in self.store.migration_headers(after=after, limit=limit):
            run = latest.get(m.id)
            summary = views.MigrationSummary(
                id=m.id,
                name=m.name,
                kind=m.kind,
                enabled=m.enabled,
                version=m.version,
                tags=m.tags,
                status=run.state.value if run else IDLE,
                last_run=run.id if run else None,
                last_run_at=run.created_at if run else None,
            )
            if (status is None or summary.status == status) and (tag is None or tag in m.tags):
                summaries.append(summary)
        return summaries

    def get(self, migration_id: str) -> views.Migration:
        return views.Migration.of(self.store.get_migration(migration_id))

    def export(self, migration_id: str) -> views.SpecExport:
        """The stored spec (redacted, in moonshift's layout) and the same as YAML."""
        migration = self.get(migration_id)
        return views.SpecExport(
            id=migration.id,
            version=migration.version,
            spec=migration.spec,
            yaml=dump_spec(migration.spec),
        )

    def spec(self, migration_id: str) -> MigrationSpec:
        return self.ctx.spec_of(migration_id)

    def show(self, migration_id: str, *, runs: int = 5) -> views.MigrationDetail:
        """A migration (its spec redacted) and its latest runs."""
        migration = self.get(migration_id)
        latest = self.store.list_runs(migration_id, limit=runs)
        return views.MigrationDetail(
            migration=migration, runs=[views.Run.model_validate(r) for r in latest]
        )

    def set_enabled(self, migration_id: str, enabled: bool, *, actor: str) -> views.Enabled:
        before = self.store.get_migration(migration_id)
        record = self.store.set_enabled(
            migration_id, enabled, actor=actor, now=self.ctx.clock.now()
        )
        if before.enabled != record.enabled:
            sync_schedule(self.ctx, record, reschedule=True)
            self.store.announce()
        return views.Enabled(id=record.id, enabled=record.enabled)

    def delete(self, migration_id: str, *, actor: str, force: bool = False) -> views.Deleted:
        """Delete (Conflict while a run is active, unless ``force``: then those are
        cancelled). Runs and history are kept; applying the spec again restores it."""
        now = self.ctx.clock.now()
        cancelled = self.store.delete_migration(migration_id, actor=actor, now=now, force=force)
        self.store.drop_schedule(migration_id)
        return views.Deleted(deleted=migration_id, cancelled_runs=cancelled)
