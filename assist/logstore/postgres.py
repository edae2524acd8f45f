"""PostgreSQL log store (psycopg 3), chosen by a ``postgresql://`` URL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assist.logstore.base import LogStoreError, SqlLogStore

try:
    import psycopg
except ImportError as exc:  # pragma: no cover - psycopg is a declared dependency
    raise ImportError("the PostgreSQL log store needs psycopg: pip install 'psycopg[binary]'") from exc


class PostgresLogStore(SqlLogStore):
    id_type = "BIGSERIAL PRIMARY KEY"
    json_type = "JSONB"
    placeholder = "%s"
    storage_errors = (OSError, psycopg.OperationalError, psycopg.InterfaceError)

    def __init__(self, url: str, prefix: str = "") -> None:
        try:
            super().__init__(url, prefix)
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise LogStoreError(f"cannot open the PostgreSQL log store {_redacted(url)}: {reason}") from exc

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, connect_timeout=10)

    def insert_ids(self, cur: Any, sql: str, rows: Sequence[tuple]) -> list[int]:
        cur.executemany(sql + " RETURNING id", rows, returning=True)
        ids = []
        while True:
            ids.append(int(cur.fetchone()[0]))
            if not cur.nextset():
                return ids

    def _lock_schema(self, cur: Any) -> None:
        # A session-level advisory lock: held across the set-up's several transactions.
        cur.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"assist-schema:{self.prefix}",))

    def _unlock_schema(self, cur: Any) -> None:
        cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", (f"assist-schema:{self.prefix}",))

    def drop(self) -> None:
        """Drop this store's tables (tests use a unique prefix per run)."""
        with self.cursor() as cur:
            for table in ("message_risks", "feedback", "labels", "messages", "qa_daily", "qa_meta"):
                cur.execute(f"DROP TABLE IF EXISTS {self.t(table)}")


def _redacted(url: str) -> str:
    """The URL without its password, for error messages."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)
