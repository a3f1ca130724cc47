"""The acceptance corpus of mapping suggestions (``bench/suggestions.py`` prints it): on 24
generated schema pairs, suggestions scored 0.8 or more are right 90% of the time or more,
and the true match is among a column's (or table's) best three for 95% or more."""

from __future__ import annotations

from pathlib import Path

from scripts.suggestion_corpus import (
    Tally,
    baseline,
    build,
    exact,
    from_suggestions,
    suggested,
    tally,
)


def test_suggestions_meet_the_goals_on_the_generated_corpus(tmp_path: Path) -> None:
    pairs = build(tmp_path, 24, 15)
    assert len(pairs) >= 20
    assert any(p.target_rows for p in pairs) and not all(p.target_rows for p in pairs)
    ours, plain = Tally(), Tally()
    for pair in pairs:
        tally(pair, *from_suggestions(suggested(pair)), ours)
        tally(pair, *baseline(pair, exact), plain)
    assert ours.items >= 150  # tables and columns the target names otherwise
    assert ours.precision >= 0.9, ours
    assert ours.recall >= 0.95, ours
    assert ours.confident >= 0.8 * ours.items  # most are confident, not flagged
    assert ours.accuracy > 5 * plain.accuracy  # exact names find few of them
