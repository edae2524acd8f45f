"""Suggestion log storage: an interface, SQLite and PostgreSQL backends, a background writer."""

from __future__ import annotations

from pathlib import Path

from assist.logstore.base import (
    FeedbackRecord,
    FeedbackRow,
    LogStore,
    LogStoreError,
    MessageQuery,
    MessageRecord,
    MessageRow,
)
from assist.logstore.writer import LogWriter

BACKENDS = ("sqlite", "postgresql")
DEFAULT_FILE = "suggestions.db"


def open_log_store(url: str, data_dir: Path, prefix: str = "") -> LogStore:
    """'' → SQLite in ``data_dir``; ``sqlite:///rel.db`` / ``sqlite:////abs.db``; ``postgresql://...`` (or postgres://)."""
    if not url:
        from assist.logstore.sqlite import SqliteLogStore

        return SqliteLogStore(Path(data_dir) / DEFAULT_FILE, prefix)
    scheme = url.split(":", 1)[0]
    if scheme == "sqlite":
        from assist.logstore.sqlite import SqliteLogStore

        # SQLAlchemy's convention: sqlite:///relative.db, sqlite:////absolute.db
        return SqliteLogStore(Path(url.removeprefix("sqlite:///")), prefix)
    if scheme in ("postgresql", "postgres"):
        from assist.logstore.postgres import PostgresLogStore

        return PostgresLogStore(url, prefix)
    raise ValueError(f"unknown log store {url!r}; supported: '' (SQLite in the data directory), "
                     f"{', '.join(b + '://...' for b in BACKENDS)}")


__all__ = ["FeedbackRecord", "FeedbackRow", "LogStore", "LogStoreError", "LogWriter", "MessageQuery",
           "MessageRecord", "MessageRow", "open_log_store"]
