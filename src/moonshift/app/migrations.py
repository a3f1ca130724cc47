"""Migrations: validate and apply spec files, list, show, enable, disable, delete, and the
dependency graph between them."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from pathlib import Path

from moonshift.app import views
from moonshift.app.context import Family
from moonshift.app.schedules import sync_schedule
from moonshift.domain import dag
from moonshift.domain.dag import find_cycle
from moonshift.domain.lifecycle import State
from moonshift.domain.spec import MigrationSpec
from moonshift.errors import InvalidInput
from moonshift.specfile import LoadResult, SpecFileError, SpecProblem, load_files, load_text

IDLE = "idle"
STATUSES = (IDLE, *(s.value for s in State))


class Migrations(Family):
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
        loaded = self._load(paths)
        self._check_references(loaded)
        results = [
            self.apply_spec(item.spec, actor=actor, source_file=item.file) for item in loaded.specs
        ]
        return views.ApplyReport(results=results, warnings=[str(w) for w in loaded.warnings])

    def apply_text(self, text: str, *, actor: str) -> views.Applied:
        """Apply one migration given as YAML text."""
        [spec] = load_text(text)
        return self.apply_spec(spec, actor=actor)

    def apply_spec(
        self, spec: MigrationSpec, *, actor: str, source_file: str | None = None
    ) -> views.Applied:
        record, action, changed = self.store.apply_migration(
            spec.canonical(), actor=actor, now=self.ctx.clock.now(), source_file=source_file
        )
        if action != "unchanged":
            scheduling = ("schedule", "enabled")
            moved = action != "updated" or any(c.split(".")[0] in scheduling for c in changed)
            sync_schedule(self.ctx, record, reschedule=moved)
            self.store.announce()
        return views.Applied(id=record.id, action=action, version=record.version, changed=changed)

    def _check_references(self, loaded: LoadResult) -> None:
        """Dependencies and exclusions must name migrations that exist; no cycles."""
        graph = self.dependency_edges()
        known = set(graph)
        for item in loaded.specs:
            graph[item.spec.id] = [d.migration for d in item.spec.depends_on]
            known.add(item.spec.id)
        problems = []
        for item in loaded.specs:
            for key in ("depends_on", "exclude_concurrent"):
                for i, ref in enumerate(getattr(item.spec, key)):
                    if ref.migration not in known:
                        problems.append(
                            SpecProblem(
                                item.file,
                                item.line,
                                f"{key}[{i}].migration",
                                f'no migration "{ref.migration}"',
                            )
                        )
        cycle = find_cycle(graph)
        if cycle:
            where = next((i for i in loaded.specs if i.spec.id in cycle), None)
            problems.append(
                SpecProblem(
                    where.file if where else "-",
                    where.line if where else None,
                    "depends_on",
                    "dependency cycle: " + " -> ".join(cycle),
                )
            )
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

    def list(
        self, *, status: str | None = None, tag: str | None = None
    ) -> builtins.list[views.MigrationSummary]:
        """Migrations with the state of their latest run (``idle`` if none)."""
        if status is not None and status not in STATUSES:
            raise InvalidInput("status", f'unknown status "{status}"; one of {", ".join(STATUSES)}')
        latest = self.store.latest_runs()
        summaries = []
        for m in self.store.list_migrations():
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
