"""Seeded log stores (SQLite and PostgreSQL) and the expected figures computed from the seed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from assist.core.knowledge import Entry, load_knowledge
from assist.logstore import open_log_store
from assist.logstore.base import FeedbackRecord, MessageRecord, SqlLogStore
from assist.qa.seed import SeedConfig, seed_store, synthetic_log

FIXTURES = Path(__file__).parent.parent / "fixtures"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
SEED = SeedConfig(messages=3000, start=1_750_000_000.0, days=10.0, seed=11)


def fixture_entries() -> list[Entry]:
    return load_knowledge(FIXTURES / "knowledge").entries


def pg_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "skip with this reason"
        return f"PostgreSQL at {PG_URL} is not reachable: {exc}"
    return None


def open_store(kind: str, tmp: Path) -> SqlLogStore:
    if kind == "sqlite":
        return open_log_store("", tmp)  # type: ignore[return-value]
    reason = pg_reachable()
    if reason:
        pytest.skip(reason)
    return open_log_store(PG_URL, tmp, prefix=f"qa_{uuid.uuid4().hex[:10]}_")  # type: ignore[return-value]


def close_store(store: SqlLogStore) -> None:
    if hasattr(store, "drop"):
        store.drop()
    store.close()


BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres",
                                                              marks=pytest.mark.postgres)]


@pytest.fixture(scope="module")
def seed_data() -> list[tuple[MessageRecord, FeedbackRecord | None]]:
    return list(synthetic_log(fixture_entries(), SEED))


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlLogStore]:
    """A store holding the SEED log (read-only for the tests that share it)."""
    store = open_store(request.param, tmp_path_factory.mktemp("store"))
    seed_store(store, fixture_entries(), SEED)
    yield store
    close_store(store)


@pytest.fixture(params=BACKENDS)
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlLogStore]:
    store = open_store(request.param, tmp_path)
    yield store
    close_store(store)


def recent_seed(messages: int = 400) -> SeedConfig:
    """A seed ending now, so the page's default range (7 days) shows it."""
    return SeedConfig(messages=messages, start=time.time() - 6 * 86400, days=5.9, seed=5)
