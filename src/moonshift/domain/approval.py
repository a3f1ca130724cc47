"""Approval: who must approve a run's plan before it runs, and whether those who did suffice.

Pure: the application layer gathers the facts (the plan's author, the approvals on record for
its digest), these functions decide.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from moonshift.domain.risk import Severity
from moonshift.domain.spec_base import Flag, SpecModel, Whole
from moonshift.errors import Conflict


class ApprovalSpec(SpecModel):
    """``approval: {required: true, approvers: 2, not_the_author: true}``."""

    required: Flag = False
    # runs whose plan has a risk finding of this severity or above wait too
    on_risk: Severity | None = None
    approvers: Whole = Field(default=1, ge=1, le=20)
    # The one who wrote the spec version a plan was made from may not approve it.
    not_the_author: Flag = False


def needed(policy: ApprovalSpec, *, await_approval: bool, worst: Severity | None = None) -> int:
    """How many approvals a run needs: 0 when it needs none. ``worst``: the most severe
    risk finding of its plan."""
    risky = policy.on_risk is not None and worst is not None and worst.rank >= policy.on_risk.rank
    return policy.approvers if policy.required or await_approval or risky else 0


def check_approver(
    actor: str, *, author: str | None, policy: ApprovalSpec, approved_by: Sequence[str]
) -> None:
    """Conflict, saying why, when ``actor`` may not approve this plan."""
    if policy.not_the_author and author is not None and actor == author:
        raise Conflict(
            f"{actor} wrote this spec version; approval.not_the_author asks for someone else"
        )
    if actor in approved_by:
        raise Conflict(f"{actor} has approved this plan already")


def tally(approved_by: Sequence[str], required: int) -> str:
    """``approved by a, b (2 of 2)``."""
    return f"approved by {', '.join(approved_by)} ({len(approved_by)} of {required})"
