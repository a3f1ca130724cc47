"""What the three SQL connectors share; each engine's module holds only where it differs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import URL

from moonshift.connectors.base import Column, Connector, Schema
from moonshift.connectors.types import PARSERS, SqlType


class SqlConnector(Connector):
    placeholder = "%s"
    quote_char = '"'

    def __init__(self, url: URL) -> None:
        self.url = url

    def read_schema(self) -> Schema:
        conn = self.connect()
        try:
            return self.catalog(conn)
        finally:
            conn.close()

    def catalog(self, conn: Any) -> Schema:
        """The schema, read through an open connection (each engine's own catalog)."""
        raise NotImplementedError

    def parse_type(self, column: Column) -> SqlType:
        return PARSERS[self.engine](column.type)

    def quote(self, name: str) -> str:
        q = self.quote_char
        return q + name.replace(q, q + q) + q

    def begin(self, conn: Any) -> None:
        pass  # the driver opens a transaction with the first statement

    def begin_snapshot(self, conn: Any) -> None:
        pass

    def insert_sql(self, table: str, columns: Sequence[str]) -> str:
        names = ", ".join(self.quote(c) for c in columns)
        marks = ", ".join([self.placeholder] * len(columns))
        return f"INSERT INTO {self.quote(table)} ({names}) VALUES ({marks})"

    def upsert_sql(self, table: str, columns: Sequence[str], key: Sequence[str]) -> str:
        rest = [c for c in columns if c not in key]
        action = (
            "DO UPDATE SET "
            + ", ".join(f"{self.quote(c)} = excluded.{self.quote(c)}" for c in rest)
            if rest
            else "DO NOTHING"
        )
        conflict = ", ".join(self.quote(k) for k in key)
        return f"{self.insert_sql(table, columns)} ON CONFLICT ({conflict}) {action}"

    def truncate(self, conn: Any, table: str) -> None:
        conn.cursor().execute(f"TRUNCATE TABLE {self.quote(table)}")
