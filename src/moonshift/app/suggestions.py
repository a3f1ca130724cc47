"""Mapping suggestions: list those of the migration's current plan, and accept one, which
writes it into the spec's mapping as a new spec version (in the history; runs waiting for
approval of the old plan plan again, their approvals void)."""

from __future__ import annotations

import builtins

from moonshift.app import views
from moonshift.app.context import Context, Family
from moonshift.app.plans import Plans
from moonshift.app.schedules import save_spec, validated
from moonshift.domain.spec import MigrationSpec
from moonshift.errors import NotFound


class Suggestions(Family):
    def __init__(self, ctx: Context, plans: Plans) -> None:
        super().__init__(ctx)
        self.plans = plans

    def list(self, migration_id: str, *, actor: str) -> builtins.list[views.Suggestion]:
        """The suggestions of the plan for the current spec version (made and stored when
        there is none), tables first."""
        return self.plans.plan(migration_id, actor=actor).suggestions

    def accept(self, migration_id: str, sid: str, *, actor: str) -> views.Accepted:
        """Write suggestion ``sid`` into the spec's mapping (``copy.tables`` or
        ``copy.overrides``: the table's target, the column's rename). NotFound, changing
        nothing, when the current plan has no such suggestion (unknown, or stale: made for
        another spec version)."""
        record = self.store.get_migration(migration_id)
        found = self.plans.plan(migration_id, actor=actor)
        chosen = next((s for s in found.suggestions if s.sid == sid), None)
        if chosen is None:
            raise NotFound(
                f'plan {found.version} of "{migration_id}" (spec version {found.spec_version}) '
                f'has no suggestion "{sid}": it was never made, or for an older spec version; '
                "list the current ones again"
            )
        spec = MigrationSpec.model_validate(record.spec)
        copy = spec.copy_spec.with_mapping(
            chosen.source_table, chosen.target_table, chosen.source_column, chosen.target_column
        )
        data = {**record.spec, "copy": copy.model_dump(mode="json", exclude_defaults=True)}
        # PreconditionFailed if another change came in since the plan was read
        expect = (record.version, record.updated_at)
        applied = save_spec(self.ctx, validated(data), actor=actor, expect=expect)
        self.store.add_note(
            migration_id,
            f"accepted suggestion {sid}: {chosen.source} -> {chosen.target} "
            f"(score {chosen.score:.2f}); "
            f"spec version {applied.version}",
            actor=actor,
            now=self.ctx.clock.now(),
        )
        return views.Accepted(suggestion=chosen, applied=applied)
