"""Mapping suggestions: which target column (or table) a source column (or table) most
likely is, with a score in [0, 1] and the reasons, from names (``domain.names``), types
(compatible families) and value profiles (compared when both sides have rows). One target
is never given to two sources: candidates are assigned greedily, best score first. Pure;
see docs/suggestions.md."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from moonshift.domain.names import name_similarity, words

REVIEW_BELOW = 0.8  # a suggestion scored lower is flagged for review
FLOOR = 0.35  # a candidate scored lower is no suggestion at all
TABLE_FLOOR = 0.5  # nor a table scored lower (unrelated tables share an id, a name...)
FIT_MIN = 0.6  # a column match that counts towards its tables' fit
TOP = 3  # candidates kept per source column
# A runner-up closer than this makes the choice a guess: the score drops by the difference.
CLEAR_MARGIN = 0.15

# Families (connectors.types.Family values) whose values move into one another; the
# same family is 1.0, a pair not listed 0.
_NEAR = {
    frozenset({"int", "decimal"}): 0.8,
    frozenset({"int", "float"}): 0.7,
    frozenset({"decimal", "float"}): 0.8,
    frozenset({"date", "timestamp"}): 0.7,
    frozenset({"timestamp", "timestamptz"}): 0.9,
    frozenset({"date", "timestamptz"}): 0.6,
    frozenset({"int", "bool"}): 0.5,
    frozenset({"text", "enum"}): 0.8,
    frozenset({"text", "json"}): 0.6,
    frozenset({"text", "uuid"}): 0.7,
}
TEXT_HOLDS_ANY = 0.4  # a text column can hold any value as its text
TEXT_MAY_PARSE = 0.2  # text into another family: only if every value parses


@dataclass(frozen=True)
class ColumnFacts:
    """What is known of one column: its name, its type family (None: unknown), and from
    a sample (None without rows) its profile (``copy.estimate.profile``'s per-column shape)
    and a bounded set of its distinct values as text."""

    name: str
    family: str | None = None
    spelled: str = ""
    profile: Mapping[str, Any] | None = None
    values: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Scored:
    source: str
    target: str
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    """A source assigned its best free target; ``ranked``: its best candidates, assigned
    or not, best first (the assigned one among them)."""

    chosen: Scored
    ranked: tuple[Scored, ...] = field(default=())

    @property
    def review(self) -> bool:
        return self.chosen.score < REVIEW_BELOW


def type_similarity(source: str | None, target: str | None) -> float:
    """How well a target column of family ``target`` holds values of family ``source``."""
    if source is None or target is None:
        return 0.5  # unknown: says nothing either way
    if source == target:
        return 1.0
    near = _NEAR.get(frozenset({source, target}))
    if near is not None:
        return near
    if target == "text":
        return TEXT_HOLDS_ANY
    return TEXT_MAY_PARSE if source == "text" else 0.0


def value_similarity(a: ColumnFacts, b: ColumnFacts) -> tuple[float, list[str]] | None:
    """How alike two sampled columns are, with what was compared; None unless both have
    rows."""
    pa, pb = a.profile, b.profile
    if not pa or not pb or pa.get("null_fraction") is None or pb.get("null_fraction") is None:
        return None
    parts: list[tuple[float, float]] = []  # (weight, similarity)
    said: list[str] = []
    if a.values and b.values:
        common = len(a.values & b.values) / min(len(a.values), len(b.values))
        parts.append((4.0, common))
        said.append(f"{common:.0%} of sampled values in common")
    nulls = 1 - abs(float(pa["null_fraction"]) - float(pb["null_fraction"]))
    parts.append((1.0, nulls))
    lengths = _ratio(_median(pa), _median(pb))
    if lengths is not None:
        parts.append((1.0, lengths))
    overlap = _range_overlap(pa, pb)
    if overlap is not None:
        parts.append((1.5, overlap))
        said.append(f"value ranges overlap {overlap:.0%}")
    tops = _top_overlap(pa, pb)
    if tops is not None:
        parts.append((1.0, tops))
    total = sum(w for w, _ in parts)
    found = sum(w * s for w, s in parts) / total
    said.append(f"nulls {float(pa['null_fraction']):.0%} vs {float(pb['null_fraction']):.0%}")
    return found, said


def _median(profile: Mapping[str, Any]) -> float | None:
    length = profile.get("length")
    return float(length["median"]) if length else None


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    if a == b:
        return 1.0
    return min(a, b) / max(a, b)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _range_overlap(pa: Mapping[str, Any], pb: Mapping[str, Any]) -> float | None:
    """The share of the narrower range that the other covers (numbers), or 1/0 for text
    ranges that meet or not."""
    ends = [pa.get("min"), pa.get("max"), pb.get("min"), pb.get("max")]
    if any(e is None for e in ends):
        return None
    numbers = [_number(e) for e in ends]
    if all(n is not None for n in numbers):
        lo_a, hi_a, lo_b, hi_b = (float(n) for n in numbers if n is not None)
        narrower = min(hi_a - lo_a, hi_b - lo_b)
        shared = min(hi_a, hi_b) - max(lo_a, lo_b)
        if shared < 0:
            return 0.0
        return 1.0 if narrower <= 0 else min(1.0, shared / narrower)
    texts = [str(e) for e in ends]
    return 1.0 if max(texts[0], texts[2]) <= min(texts[1], texts[3]) else 0.0


def _top_overlap(pa: Mapping[str, Any], pb: Mapping[str, Any]) -> float | None:
    ta = {str(v) for v, _ in pa.get("top") or ()}
    tb = {str(v) for v, _ in pb.get("top") or ()}
    if not ta and not tb:
        return None
    return len(ta & tb) / len(ta | tb)


def score(source: ColumnFacts, target: ColumnFacts) -> Scored:
    """Names weigh most; value profiles, when both sides have rows, settle what names
    cannot (a decoy with a like name holds other values); types that cannot hold each
    other's values cap the score below review."""
    names = name_similarity(source.name, target.name)
    types = type_similarity(source.family, target.family)
    reasons = [_name_reason(source.name, target.name, names), _type_reason(source, target, types)]
    values = value_similarity(source, target)
    if values is None:
        found = 0.7 * names + 0.3 * types
        reasons.append("values: not compared (a side has no rows)")
    else:
        found = 0.45 * names + 0.15 * types + 0.4 * values[0]
        reasons.append(f"values {values[0]:.2f}: " + ", ".join(values[1]))
    if types == 0.0:
        found = min(found, FLOOR + 0.1)
    return Scored(source.name, target.name, round(found, 3), tuple(reasons))


def _name_reason(a: str, b: str, similarity: float) -> str:
    wa, wb = words(a), words(b)
    if wa == wb:
        return f"names {similarity:.2f}: the same words ({' '.join(wa)})"
    return f"names {similarity:.2f}: {' '.join(wa)} ~ {' '.join(wb)}"


def _type_reason(a: ColumnFacts, b: ColumnFacts, similarity: float) -> str:
    what = "compatible" if similarity >= 0.7 else "loosely compatible" if similarity else "apart"
    return f"types {similarity:.2f}: {a.spelled or a.family} -> {b.spelled or b.family} ({what})"


def match(sources: Sequence[ColumnFacts], targets: Sequence[ColumnFacts]) -> list[Match]:
    """Each source its best target that no better-scored pair took; sources with no
    candidate at or above FLOOR get none."""
    table = [score(s, t) for s in sources for t in targets]
    return assigned(table)


def table_score(
    source: str, target: str, mine: Sequence[ColumnFacts], theirs: Sequence[ColumnFacts]
) -> Scored:
    """Names, and how many columns find a likely counterpart (by names and types), over
    the wider table: unrelated tables that share an ``id`` and a ``name`` fit little."""
    names = name_similarity(source, target)
    fit = [m.chosen.score for m in match(mine, theirs) if m.chosen.score >= FIT_MIN]
    columns = sum(fit) / max(len(mine), len(theirs), 1)
    return Scored(
        source,
        target,
        round(0.4 * names + 0.6 * columns, 3),
        (
            _name_reason(source, target, names),
            f"columns {columns:.2f}: {len(fit)} of {len(mine)} source columns find a "
            f"counterpart among {len(theirs)}",
        ),
    )


def assigned(table: Iterable[Scored]) -> list[Match]:
    """Greedy one-to-one assignment, best score first (ties by name, for stable output)."""
    candidates = sorted(
        (s for s in table if s.score >= FLOOR), key=lambda s: (-s.score, s.source, s.target)
    )
    ranked: dict[str, list[Scored]] = {}
    for s in candidates:
        ranked.setdefault(s.source, []).append(s)
    taken: set[str] = set()
    chosen: dict[str, Scored] = {}
    for s in candidates:
        if s.source not in chosen and s.target not in taken:
            chosen[s.source] = s
            taken.add(s.target)
    return [
        Match(_unless_close(c, ranked[c.source]), tuple(ranked[c.source][:TOP]))
        for c in sorted(chosen.values(), key=lambda c: c.source)
    ]


def _unless_close(chosen: Scored, ranked: list[Scored]) -> Scored:
    """``chosen``, its score lowered when another target scores nearly as well."""
    runner = next((s for s in ranked if s.target != chosen.target), None)
    if runner is None or chosen.score - runner.score >= CLEAR_MARGIN:
        return chosen
    margin = chosen.score - runner.score
    return Scored(
        chosen.source,
        chosen.target,
        round(max(0.0, chosen.score - (CLEAR_MARGIN - margin)), 3),
        (*chosen.reasons, f"ambiguous: {runner.target} scores {runner.score:.2f}"),
    )


def suggestion_id(
    source_table: str, source_column: str | None, target_table: str, target_column: str | None
) -> str:
    """Stable: the same mapping suggested by another plan has the same id."""
    text = f"{source_table}.{source_column or ''}->{target_table}.{target_column or ''}"
    return hashlib.sha256(text.encode()).hexdigest()[:10]
