"""The spec loader under random input (hypothesis): YAML structures built from the spec's own
keys and awkward scalars, and valid specs with their text cut and spliced. Every input ends
in a valid spec or in `file:line: field: reason` problems (exit 2 in the CLI): never another
exception, never a hang, never a file written.

The seed is printed; ``MOONSHIFT_FUZZ_SEED=N`` replays a run."""

from __future__ import annotations

import os
import random
import re
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from moonshift.app import Moonshift, Settings
from moonshift.domain.spec import MigrationSpec, SpecDocument
from moonshift.specfile import SpecFileError, SpecProblem, _keys_of, _model_in

SEED = int(os.environ.get("MOONSHIFT_FUZZ_SEED") or random.randrange(2**32))
EXAMPLES = int(os.environ.get("MOONSHIFT_FUZZ_EXAMPLES") or 200)  # not the profile's 2,000: minutes
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SLOWEST_SECONDS = 20  # one input; a hang (an alias bomb) took minutes
PROBLEM = re.compile(r"^fuzz\.yaml(:\d+)?: .")

VALID = """\
connections:
  - {id: shop, type: sqlite, url: "sqlite:///shop.db"}
migrations:
  - id: nightly
    kind: copy
    source: {connection: shop}
    target: {url: "postgresql://app:${PGPASSWORD}@db/warehouse"}
    copy: {tables: [customers, {source: orders, target: orders_r}], batch_size: 500}
    schedule: {cron: "0 2 * * *", timezone: Europe/Paris}
    windows:
      - {name: night, days: [mon, tue], start: "22:00", end: "06:00"}
    depends_on: [{migration: prep}]
    max_duration: 4h
    retries: {max: 2, backoff: 5m}
  - id: prep
    kind: command
    command: {run: [echo, hi], env: {TOKEN: "${API_TOKEN}"}, timeout: 30s}
    schedule: {interval: 1h, anchor: 2026-01-01T00:00:00}
"""


def spec_keys(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> set[str]:
    """Every key a spec may write, at any depth."""
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    keys = set()
    for key, info in _keys_of(model).items():
        keys.add(key)
        inner = _model_in(info.annotation)
        if inner is not None:
            keys |= spec_keys(inner, seen)
    return keys


KEYS = sorted(spec_keys(MigrationSpec) | set(SpecDocument.model_fields))
AWKWARD = [
    "",
    "~",
    "22:00",
    "2026-02-30",
    "0s",
    "999999999999w",
    "P99999999999999999999D",
    "${API_TOKEN}",
    "${",
    "a\0b",
    "A=B",
    "\ud800",
    "*",
    "-1",
    "1e400",
    "Not A Slug",
    "postgresql://u:pw@h/db",
    "sqlite:///x.db",
    "0 2 * * *",
    "61 * * * *",
    "Mars/Olympus",
    "steps",
    "copy",
    "command",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(AWKWARD),
    st.text(max_size=12),
    st.datetimes().map(lambda d: d.isoformat()),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=5),
    ),
    max_leaves=25,
)
SPECS = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["a", "b", "Bad Id"]),
        "kind": st.sampled_from(["copy", "command", "steps", "x"]),
    },
    optional=dict.fromkeys(KEYS[:40], VALUES),
) | st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8)
DOCUMENTS = (
    SPECS
    | st.lists(SPECS, max_size=3)
    | st.fixed_dictionaries({"migrations": st.lists(SPECS, max_size=3)})
)


def as_yaml(document: Any) -> str:
    try:
        return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, UnicodeEncodeError):
        return str(document)  # what safe_dump cannot write goes in as it prints


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """The valid document with a few cuts, copies and insertions of YAML's own syntax."""
    text = VALID
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=len(text)))
        end = draw(st.integers(min_value=at, max_value=min(len(text), at + 40)))
        edit = draw(st.sampled_from(["cut", "copy", "insert"]))
        if edit == "cut":
            text = text[:at] + text[end:]
        elif edit == "copy":
            text = text[:at] + text[at:end] * 2 + text[end:]
        else:
            token = draw(
                st.sampled_from(
                    [
                        "&a ",
                        "*a",
                        "<<: *a\n",
                        "- ",
                        ": ",
                        "{",
                        "]",
                        "\t",
                        "!!timestamp ",
                        "!!binary ",
                        "!!python/object ",
                        "? ",
                        "---\n",
                        '"\\x',
                        "'",
                        "#",
                        "\n  ",
                        "%YAML 1.1\n",
                        "|\n",
                    ]
                )
                | st.sampled_from(AWKWARD)
            )
            text = text[:at] + token + text[at:]
    return text


def check(tmp_path: Path, text: str) -> None:
    """Validate ``text`` as a user's file: a result or clean problems, quickly, no writes."""
    folder = tmp_path / "fuzz"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    path = folder / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    app = Moonshift(
        Settings(state_url=f"sqlite:///{folder / 'state.db'}", home=folder / "home"),
        environ={"PATH": "/usr/bin:/bin"},
    )
    started = time.monotonic()
    problems: list[SpecProblem] = []
    try:
        app.migrations.validate([path])
    except SpecFileError as exc:
        problems = exc.problems or [SpecProblem("", None, "", "")]
    finally:
        app.close()
    took = time.monotonic() - started
    for problem in problems:
        shown = str(problem).removeprefix(f"{folder}/")
        assert PROBLEM.match(shown) and problem.reason.strip(), f"seed {SEED}: {shown}"
    assert took < SLOWEST_SECONDS, f"seed {SEED}: {took:.1f}s for {text[:200]!r}"
    assert sorted(p.name for p in folder.iterdir()) == ["fuzz.yaml"], f"seed {SEED}: wrote"


def test_the_seed_is_printed() -> None:
    print(f"spec fuzz seed {SEED}; replay with MOONSHIFT_FUZZ_SEED={SEED}")


@seed(SEED)
@FUZZ
@given(DOCUMENTS.map(as_yaml))
def test_random_structures_end_clean(tmp_path: Path, text: str) -> None:
    check(tmp_path, text)


@seed(SEED)
@FUZZ
@given(mutated())
def test_spliced_text_ends_clean(tmp_path: Path, text: str) -> None:
    check(tmp_path, text)
