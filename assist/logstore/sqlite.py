"""SQLite log store (the default): one file in the data directory, WAL so reads never block writes."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from assist.logstore.base import SqlLogStore


class SqliteLogStore(SqlLogStore):
    def __init__(self, path: Path, prefix: str = "") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Customer messages: readable by the service's user only. SQLite gives the -wal and -shm
        # files the database file's mode, so creating it 0600 covers them too.
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        super().__init__(f"sqlite:///{self.path}", prefix)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it consistent
        return conn

    def _insert_ids(self, cur: Any, sql: str, rows: list[tuple]) -> list[int]:
        ids = []
        for row in rows:
            cur.execute(sql, row)
            ids.append(int(cur.lastrowid))
        return ids
