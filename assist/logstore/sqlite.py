"""SQLite log store (the default): one file in the data directory, WAL so reads never block writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assist.logstore.base import SqlLogStore


class SqliteLogStore(SqlLogStore):
    def __init__(self, path: Path, prefix: str = "") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(f"sqlite:///{self.path}", prefix)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it consistent
        return conn

    def insert_ids(self, cur: Any, sql: str, rows: Sequence[tuple]) -> list[int]:
        ids = []
        for row in rows:
            cur.execute(sql, row)
            ids.append(int(cur.lastrowid))
        return ids
