"""How good mapping suggestions are, on a corpus of generated schema pairs.

Builds ``--pairs`` SQLite schema pairs (``scripts/suggestion_corpus.py``: renamed tables and
columns, case styles, abbreviations, synonyms, widened types, dropped columns, decoys;
targets with and without rows), asks moonshift's suggester (as a plan does) and two plain
matchers measured on the same corpus: exact names (case folded) and edit similarity of the
names (difflib). Prints, per matcher, the precision of its confident guesses (score 0.8 or
more), how often the true match comes first, and how often it is among the best three
(top-3 recall); then moonshift's top-3 recall as a ratio of each reference's, and its
precision as a ratio of the edit-similarity matcher's.
Goals: precision >= 0.9, top-3 recall >= 0.95.

    .venv/bin/python bench/suggestions.py [--pairs 24] [--seed 15]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.suggestion_corpus import (
    Tally,
    baseline,
    build,
    exact,
    from_suggestions,
    fuzzy,
    suggested,
    tally,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=24)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        pairs = build(Path(folder), args.pairs, args.seed)
        ours, plain, edit = Tally(), Tally(), Tally()
        by_rows = {True: Tally(), False: Tally()}  # moonshift, targets with rows or without
        began = time.perf_counter()
        for pair in pairs:
            guesses = from_suggestions(suggested(pair))
            tally(pair, *guesses, ours)
            tally(pair, *guesses, by_rows[pair.target_rows])
        took = time.perf_counter() - began
        for pair in pairs:
            tally(pair, *baseline(pair, exact), plain)
            tally(pair, *baseline(pair, fuzzy), edit)
    with_rows = sum(p.target_rows for p in pairs)
    print(
        f"{len(pairs)} schema pairs ({with_rows} targets with rows), {ours.items} tables and "
        f"columns named otherwise; moonshift took {took:.1f} s"
    )
    print(f"{'matcher':<22}{'confident':>10}{'precision':>11}{'top-1':>8}{'top-3 recall':>14}")
    matchers = [
        ("moonshift", ours),
        ("  targets with rows", by_rows[True]),
        ("  targets without", by_rows[False]),
        ("exact names", plain),
        ("edit similarity", edit),
    ]
    for name, t in matchers:
        print(f"{name:<22}{t.confident:>10}{t.precision:>11.3f}{t.accuracy:>8.3f}{t.recall:>14.3f}")
    for name, t in (("exact names", plain), ("edit similarity", edit)):
        ratio = ours.recall / t.recall if t.recall else float("inf")
        print(f"top-3 recall, moonshift / {name}: {ratio:.2f}x")
    print(
        f"precision of confident guesses, moonshift / edit similarity: "
        f"{ours.precision / edit.precision:.2f}x"
    )
    held = ours.precision >= 0.9 and ours.recall >= 0.95
    print(f"goals (precision >= 0.9, top-3 recall >= 0.95): {'met' if held else 'NOT met'}")


if __name__ == "__main__":
    main()
