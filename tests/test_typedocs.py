"""docs/copy.md's type tables are the type data itself, written out."""

from __future__ import annotations

from pathlib import Path

from moonshift.connectors.typedocs import current, tables

DOCS = Path(__file__).resolve().parents[1] / "docs" / "copy.md"


def test_the_type_tables_in_the_docs_are_the_current_data() -> None:
    assert current(DOCS), "run: python -m moonshift.connectors.typedocs docs/copy.md"


def test_every_ordered_pair_of_engines_has_a_table() -> None:
    written = tables()
    for pair in (
        "PostgreSQL to MySQL/MariaDB",
        "PostgreSQL to SQLite",
        "MySQL/MariaDB to PostgreSQL",
        "MySQL/MariaDB to SQLite",
        "SQLite to PostgreSQL",
        "SQLite to MySQL/MariaDB",
    ):
        assert f"#### {pair}\n" in written
    assert "| `NVARCHAR(160)` | `VARCHAR(160)` |" in written  # SQLite's affinity rules
