"""SQLite log store (the default): one file in the data directory, WAL so reads never block writes."""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assist.logstore.base import LogStoreError, SqlLogStore


class SqliteLogStore(SqlLogStore):
    def __init__(self, path: Path, prefix: str = "") -> None:
        self.path = Path(path)
        self._inode: tuple[int, int] | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            super().__init__(f"sqlite:///{self.path}", prefix)
        except (OSError, sqlite3.Error) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise LogStoreError(f"cannot open the log database {self.path}: {reason}") from exc

    def _connect(self) -> sqlite3.Connection:
        # Created 0600 (customer text, masked or not, is nobody else's business); SQLite gives
        # its -wal and -shm files the same mode. The directory is made again if it was deleted:
        # the log goes on in a new file rather than nowhere.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it consistent
        stat = os.stat(self.path)
        self._inode = (stat.st_dev, stat.st_ino)
        return conn

    def _before_write(self) -> None:
        # A deleted file (or directory) takes writes without complaint and loses them at exit.
        try:
            stat = os.stat(self.path)
        except OSError as exc:
            raise OSError(exc.errno, f"the log database was removed ({exc.strerror})",
                          str(self.path)) from exc
        if self._inode is not None and (stat.st_dev, stat.st_ino) != self._inode:
            raise OSError(errno.ESTALE, "the log database file was replaced", str(self.path))

    def is_storage_error(self, exc: BaseException) -> bool:
        if isinstance(exc, OSError | sqlite3.OperationalError):
            return True
        # A closed or corrupt database is the store's state, not the record's fault.
        return type(exc) in (sqlite3.DatabaseError, sqlite3.InterfaceError) or (
            isinstance(exc, sqlite3.ProgrammingError) and "closed" in str(exc))

    def insert_ids(self, cur: Any, sql: str, rows: Sequence[tuple]) -> list[int]:
        ids = []
        for row in rows:
            cur.execute(sql, row)
            ids.append(int(cur.lastrowid))
        return ids
