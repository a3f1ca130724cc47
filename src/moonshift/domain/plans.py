"""A plan's digest: SHA-256 of its canonical form, so an approval names exactly what it saw.

The digest covers what the run will do (the spec, both schemas as analysed, the column
mappings, the order of the tables and of the migrations it depends on), not what changes by
itself from one minute to the next (row counts, profiles, estimates), which the plan keeps
beside it. See docs/decisions/plan-digest.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# The parts of a plan that its digest covers; the others are kept beside them.
DIGESTED = ("spec", "schema", "mappings", "dag")
# A plan's format: a change in what the parts hold is a new format, and a new digest.
FORMAT = 1


def canonical(parts: Mapping[str, Any]) -> bytes:
    """The digested parts as compact JSON with sorted keys: equal plans, equal bytes."""
    chosen = {"format": FORMAT, **{k: parts.get(k) for k in DIGESTED}}
    return json.dumps(chosen, sort_keys=True, separators=(",", ":"), default=str).encode()


def digest(parts: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(parts)).hexdigest()
