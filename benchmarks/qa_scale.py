"""QA page queries at scale: seed a SQLite suggestion log with N rows (default 1,000,000), then time
the first page, filtered pages, a deep keyset page and the metrics (from the daily counters, and
from the raw rows for comparison), print each query plan, and time a full rebuild of the counters.

    python benchmarks/qa_scale.py [--rows 1000000] [--db /tmp/qa_scale.db] [--reuse] [--no-raw]

Seeding goes through the store's normal write path (one transaction per batch, every index
maintained); personal-data masking is switched off for it because the synthetic texts hold none
and masking a million texts would only time the regexes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from assist.core.knowledge import load_knowledge
from assist.logstore import MessageQuery, base, summaries
from assist.logstore.sqlite import SqliteLogStore
from assist.qa.metrics import compute_metrics
from assist.qa.seed import SeedConfig, seed_store

REPO = Path(__file__).resolve().parent.parent


def timed(fn: Callable[[], object], repeat: int = 5) -> tuple[float, object]:
    """Median wall time in ms over ``repeat`` runs (the first warms the page cache)."""
    fn()
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def plan(store: SqliteLogStore, query: MessageQuery) -> str:
    sql, params = store.page_sql(query)
    with store.cursor() as cur:
        cur.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " | ".join(row[3] for row in cur.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--db", type=Path, default=Path("/tmp/qa_scale.db"))
    parser.add_argument("--reuse", action="store_true", help="keep an existing database of that size")
    parser.add_argument("--no-raw", action="store_true", help="skip the (slow) raw-row metrics")
    args = parser.parse_args()
    entries = load_knowledge(REPO / "knowledge").entries
    start = time.time() - args.days * 86400
    if not (args.reuse and args.db.is_file()):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.db}{suffix}").unlink(missing_ok=True)
        store = SqliteLogStore(args.db)
        base.mask = lambda text: text  # see the module docstring
        started = time.perf_counter()
        seed_store(store, entries, SeedConfig(messages=args.rows, start=start, days=args.days), batch=10_000)
        print(f"seeded {args.rows:,} messages in {time.perf_counter() - started:.1f}s")
        with store.cursor() as cur:
            cur.execute("ANALYZE")
        store.close()
    store = SqliteLogStore(args.db)
    print(f"{store.count_messages():,} messages, {args.db.stat().st_size / 1e6:.0f} MB, "
          f"{len(entries)} knowledge entries")
    scripts = [e for e in entries if e.kind == "script"]
    deep_ts, deep_id = _row_at(store, 0.97)
    queries = {
        "first page": MessageQuery(),
        "last 7 days": MessageQuery(since=time.time() - 7 * 86400),
        "agent": MessageQuery(agent="agent-05"),
        "conversation": MessageQuery(conversation_id="conv-0050000"),
        "category": MessageQuery(category=scripts[3].category),
        "stage prefix": MessageQuery(category=scripts[3].category.split("/")[0]),
        "risk type": MessageQuery(risk_type="verification_code"),
        "risk type (rare)": MessageQuery(risk_type="fake_review"),
        "action edited": MessageQuery(action="edited"),
        "action none": MessageQuery(action="none"),
        "no suggestion": MessageQuery(no_suggestion=True),
        "low confidence": MessageQuery(max_score=0.5),
        "deep keyset page (97%)": MessageQuery(before=(deep_ts, deep_id)),
        "deep + agent": MessageQuery(agent="agent-05", before=(deep_ts, deep_id)),
        "deep + risk type": MessageQuery(risk_type="verification_code", before=(deep_ts, deep_id)),
    }
    print(f"\n{'page query (50 rows)':<26} {'ms':>8}  rows  plan")
    for name, query in queries.items():
        ms, rows = timed(lambda q=query: store.query_messages(q))
        print(f"{name:<26} {ms:8.2f}  {len(rows):>4}  {plan(store, query)}")  # type: ignore[arg-type]
    print(f"\n{'metrics (whole days)':<26} {'source':>9} {'ms':>9}")
    sources = ("summaries",) if args.no_raw else ("summaries", "raw")
    for label, days in (("last 1 day", 1), ("last 7 days", 7), (f"all {args.days:g} days", args.days)):
        for source in sources:
            ms, result = timed(lambda d=days, s=source: compute_metrics(
                store, time.time() - d * 86400, time.time() + 1, entries, source=s),
                repeat=3 if source == "summaries" else 1)
            print(f"{label:<26} {source:>9} {ms:9.1f}  ({len(result.days)} days, "  # type: ignore[attr-defined]
                  f"{result.totals.messages:,} messages, {result.edit_sample:,} edits)")  # type: ignore[attr-defined]
    started = time.perf_counter()
    counters = summaries.rebuild(store)
    print(f"\nrebuilt {counters:,} daily counters from the raw rows in {time.perf_counter() - started:.1f}s")
    store.close()


def _row_at(store: SqliteLogStore, depth: float) -> tuple[float, int]:
    """The (ts, id) cursor ``depth`` of the way down the newest-first list."""
    with store.cursor() as cur:
        cur.execute(f"SELECT MIN(id), MAX(id) FROM {store.t('messages')}")
        low, high = cur.fetchone()
        cur.execute(f"SELECT ts, id FROM {store.t('messages')} WHERE id >= ? ORDER BY id LIMIT 1",
                    [int(high - (high - low) * depth)])
        ts, pk = cur.fetchone()
    return float(ts), int(pk)


if __name__ == "__main__":
    main()
