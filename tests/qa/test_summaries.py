"""The daily counters behind the QA metrics agree with a raw computation, on both log stores."""

from __future__ import annotations

import math
import random
import sqlite3
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assist.logstore import FeedbackRecord, MessageRecord, open_log_store, summaries
from assist.logstore.base import SqlLogStore
from assist.qa.metrics import compute_metrics
from assist.qa.seed import SeedConfig, seed_store, synthetic_log
from tests.qa.conftest import SEED, fixture_entries

DAY = 86400
CST = 8 * 3600
END = SEED.start + SEED.days * DAY + DAY


def comparable(metrics) -> dict:
    return metrics.model_dump(exclude={"source"})


@pytest.mark.parametrize("threshold", [0.6, 0.5, 0.73])
@pytest.mark.parametrize("span", [(0, END), (SEED.start + 2.3 * DAY, SEED.start + 5.1 * DAY),
                                  (SEED.start + 4.5 * DAY, SEED.start + 4.6 * DAY)],
                         ids=["all", "middle", "one-day"])
def test_summaries_match_a_raw_computation(seeded, threshold, span) -> None:
    entries = fixture_entries()
    fast = compute_metrics(seeded, *span, entries, threshold, source="summaries")
    slow = compute_metrics(seeded, *span, entries, threshold, source="raw")
    assert (fast.source, slow.source) == ("summaries", "raw")
    assert fast.totals.messages > 0 and fast.totals.accepted > 0 and fast.risk_totals
    # Same buckets, so even the latency percentiles are identical, not just within a bucket.
    assert comparable(fast) == comparable(slow)
    assert compute_metrics(seeded, *span, entries, threshold).source == "summaries"  # the default


def test_daily_feedback_matches_the_seed(seeded, seed_data) -> None:
    """Checked against the seed itself, not against SQL: feedback per action per message day."""
    m = compute_metrics(seeded, 0, END, fixture_entries(), source="summaries")
    expected: dict[str, Counter] = defaultdict(Counter)
    for record, fb in seed_data:
        if fb:
            expected[_date(record.ts)][fb.action] += 1
    got = {d.day: (d.accepted, d.edited, d.dismissed) for d in m.days}
    assert got == {day: (expected[day]["accepted"], expected[day]["edited"], expected[day]["dismissed"])
                   for day in got}
    assert set(expected) <= set(got)


def test_counters_kept_by_the_writer_equal_a_rebuild(seeded) -> None:
    kept = sorted(summaries.read(seeded, -10**7, 10**7))
    assert summaries.rebuild(seeded) == len(kept)
    assert sorted(summaries.read(seeded, -10**7, 10**7)) == kept


def test_late_feedback_duplicates_and_edge_latencies(empty_store: SqlLogStore) -> None:
    day = 20_000  # a local day number at UTC+8
    midnight = day * DAY - CST  # start of that day
    script = [{"id": "bargain", "category": "售前/议价", "score": 0.6, "reply": "亲,已经是最低价了"}]
    late = midnight + DAY - 10  # 23:59:50
    empty_store.write_messages([
        MessageRecord(ts=late, conversation_id="c1", message_id="late", agent="a", text="能便宜点吗",
                      scripts=script, latency_ms=99.95),
        MessageRecord(ts=midnight + 100, conversation_id="c2", message_id="dup", agent="a", text="在吗",
                      latency_ms=100.0),
        MessageRecord(ts=midnight + DAY + 100, conversation_id="c3", message_id="dup", agent="a",
                      text="包邮吗", scripts=script, latency_ms=999.5,
                      risks=[{"type": "phishing_link", "evidence": "http://x"}]),
        MessageRecord(ts=midnight + 200, conversation_id="c1", message_id="slow", agent="a", text="?",
                      latency_ms=1234.5)])
    empty_store.write_feedback([
        FeedbackRecord(ts=late + 30, message_id="late", suggestion_id="bargain", action="accepted",
                       agent="a"),
        FeedbackRecord(ts=midnight + DAY + 150, message_id="dup", suggestion_id="bargain", action="edited",
                       agent="a", final_text="亲,包邮的"),
        FeedbackRecord(ts=midnight + 2 * DAY + 5, message_id="ghost", suggestion_id="bargain",
                       action="dismissed", agent="a")])
    m = compute_metrics(empty_store, midnight, midnight + 3 * DAY, fixture_entries(), source="summaries")
    by_day = {d.day: d for d in m.days}
    first, second, third = (_date(midnight + n * DAY) for n in range(3))
    assert (by_day[first].messages, by_day[first].accepted, by_day[first].edited) == (3, 1, 0)
    assert (by_day[second].messages, by_day[second].accepted, by_day[second].edited) == (1, 0, 1)
    assert (by_day[third].messages, by_day[third].dismissed) == (0, 1)  # no message: its own day
    assert [(u.id, u.shown, u.accepted, u.edited, u.dismissed) for u in m.most_used] == [
        ("bargain", 2, 1, 1, 1)]
    assert comparable(m) == comparable(compute_metrics(empty_store, midnight, midnight + 3 * DAY,
                                                       fixture_entries(), source="raw"))
    assert [e.id for e in m.most_edited] == ["bargain"] and m.edit_sample == 1


def test_other_offsets_and_thresholds_fall_back_to_the_raw_rows(seeded) -> None:
    entries = fixture_entries()
    assert compute_metrics(seeded, 0, END, entries, tz_offset_s=0).source == "raw"
    assert compute_metrics(seeded, 0, END, entries, threshold=0.625).source == "raw"
    with pytest.raises(ValueError, match="0.01 grid"):
        compute_metrics(seeded, 0, END, entries, tz_offset_s=0, source="summaries")


def test_rebuild_with_another_day_offset(empty_store: SqlLogStore) -> None:
    entries = fixture_entries()
    seed_store(empty_store, entries, SeedConfig(messages=400, start=SEED.start, days=3, seed=4))
    summaries.rebuild(empty_store, 0)
    assert summaries.state(empty_store) == (True, 0)
    seed_store(empty_store, entries, SeedConfig(messages=100, start=SEED.start + 3 * DAY, days=1, seed=5))
    fast = compute_metrics(empty_store, 0, END, entries)  # the store's offset now: UTC
    assert (fast.source, fast.tz_offset_s, fast.totals.messages) == ("summaries", 0, 500)
    assert comparable(fast) == comparable(compute_metrics(empty_store, 0, END, entries, source="raw"))


def test_a_store_from_before_the_counters_is_upgraded_on_open(tmp_path: Path) -> None:
    entries = fixture_entries()
    store = open_log_store("", tmp_path)
    seed_store(store, entries, SeedConfig(messages=500, start=SEED.start, days=4, seed=9))
    store.close()
    with sqlite3.connect(tmp_path / "suggestions.db") as conn:  # back to the old layout
        conn.executescript("""
            DROP INDEX feedback_qa_day; DROP TABLE qa_daily; DROP TABLE qa_meta;
            ALTER TABLE feedback DROP COLUMN message_pk; ALTER TABLE feedback DROP COLUMN message_ts;
            ALTER TABLE feedback DROP COLUMN edit_distance; ALTER TABLE feedback DROP COLUMN edit_drift_ppm;
            CREATE INDEX feedback_qa_metrics ON feedback (ts, action, suggestion_id);""")
    upgraded = open_log_store("", tmp_path)
    try:
        assert summaries.state(upgraded) == (True, CST)  # type: ignore[arg-type]
        fast = compute_metrics(upgraded, 0, END, entries)  # type: ignore[arg-type]
        assert fast.source == "summaries" and fast.totals.messages == 500 and fast.totals.accepted
        assert comparable(fast) == comparable(compute_metrics(upgraded, 0, END, entries,  # type: ignore[arg-type]
                                                              source="raw"))
        with upgraded.cursor() as cur:  # type: ignore[attr-defined]
            cur.execute("SELECT COUNT(*) FROM feedback WHERE message_pk IS NULL")
            assert cur.fetchone()[0] == 0
            cur.execute("SELECT COUNT(*) FROM feedback WHERE action = 'edited'")
            assert fast.edit_sample == cur.fetchone()[0] > 0 and fast.most_edited  # measured now
            cur.execute("SELECT name FROM sqlite_master WHERE name = 'feedback_qa_metrics'")
            assert cur.fetchone() is None
    finally:
        upgraded.close()


def test_buckets_agree_with_the_comparisons_they_replace() -> None:
    rng = random.Random(3)
    scores = [rng.random() for _ in range(3000)] + [k / 100 for k in range(101)]
    scores += [math.nextafter(k / 100, 0) for k in range(1, 101)] + [0.29, 0.57, 0.58, 1.0, 1.2, -0.1]
    for k in range(0, 101):
        threshold = k / 100
        assert summaries.grid_threshold(threshold) == k
        assert all((s >= threshold) == (summaries.score_bucket(s) >= k) for s in scores), threshold
    assert summaries.grid_threshold(0.625) is None
    assert [summaries.latency_bucket(x) for x in (0.04, 0.05, 12.34, 99.95, 100, 999.49, 999.5, 1234.5)] == [
        0.0, 0.1, 12.3, 100.0, 100.0, 999.0, 1000.0, 1230.0]


def _date(ts: float) -> str:
    """The local date (UTC+8) of ``ts``, as the metrics name days."""
    return datetime.fromtimestamp(summaries.day_of(ts, CST) * DAY, UTC).strftime("%Y-%m-%d")


def test_concurrent_writers_keep_the_counters_exact(empty_store: SqlLogStore) -> None:
    """Four threads (four connections) add to the same days' counters at once."""
    from concurrent.futures import ThreadPoolExecutor

    config = SeedConfig(messages=800, start=SEED.start, days=2, seed=8)
    records = list(synthetic_log(fixture_entries(), config))

    def write(part: int) -> None:
        mine = records[part::4]
        for start in range(0, len(mine), 25):
            batch = mine[start:start + 25]
            empty_store.write_messages([m for m, _ in batch])
            empty_store.write_feedback([f for _, f in batch if f])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(4)))
    kept = sorted(summaries.read(empty_store, -10**7, 10**7))
    summaries.rebuild(empty_store)
    assert sorted(summaries.read(empty_store, -10**7, 10**7)) == kept
    assert sum(n for _, metric, _, n in kept if metric == "messages") == 800
