"""PostgreSQL log store (psycopg 3), chosen by a ``postgresql://`` URL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assist.logstore.base import SqlLogStore

try:
    import psycopg
except ImportError as exc:  # pragma: no cover - psycopg is a declared dependency
    raise ImportError("the PostgreSQL log store needs psycopg: pip install 'psycopg[binary]'") from exc


class PostgresLogStore(SqlLogStore):
    id_type = "BIGSERIAL PRIMARY KEY"
    json_type = "JSONB"
    placeholder = "%s"

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, connect_timeout=10)

    def insert_ids(self, cur: Any, sql: str, rows: Sequence[tuple]) -> list[int]:
        cur.executemany(sql + " RETURNING id", rows, returning=True)
        ids = []
        while True:
            ids.append(int(cur.fetchone()[0]))
            if not cur.nextset():
                return ids

    def drop(self) -> None:
        """Drop this store's tables (tests use a unique prefix per run)."""
        with self.cursor() as cur:
            for table in ("message_risks", "feedback", "labels", "messages", "qa_daily", "qa_meta"):
                cur.execute(f"DROP TABLE IF EXISTS {self.t(table)}")
