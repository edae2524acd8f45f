"""QA queries on both log stores: filters, keyset pages, metrics, labels, query plans."""

from __future__ import annotations

from collections import Counter

import pytest

from assist.logstore import MessageQuery, review
from assist.logstore.base import SqlLogStore
from assist.qa.metrics import compute_metrics, format_report, percentile
from tests.qa.conftest import SEED, fixture_entries

END = SEED.start + SEED.days * 86400 + 86400


def walk(store: SqlLogStore, query: MessageQuery) -> list:
    """Every row matching ``query``, page by page through the keyset cursor."""
    rows, query = [], query.model_copy(update={"limit": 97})
    while True:
        page = store.query_messages(query)
        rows += page
        if len(page) < query.limit:
            return rows
        query = query.model_copy(update={"before": (page[-1].ts, page[-1].id)})


def test_keyset_pages_cover_every_row_once_newest_first(seeded, seed_data) -> None:
    rows = walk(seeded, MessageQuery())
    assert len(rows) == len(seed_data)
    assert len({r.id for r in rows}) == len(rows)
    assert [(r.ts, r.id) for r in rows] == sorted(((r.ts, r.id) for r in rows), reverse=True)


@pytest.mark.parametrize("query, expect", [
    (MessageQuery(risk_type="phishing_link"),
     lambda m, f: any(r["type"] == "phishing_link" for r in m.risks)),
    (MessageQuery(action="edited"), lambda m, f: f is not None and f.action == "edited"),
    (MessageQuery(action="none"), lambda m, f: f is None),
    (MessageQuery(category="售前"),
     lambda m, f: bool(m.scripts) and m.scripts[0]["category"].startswith("售前")),
    (MessageQuery(category="通用/道别"),
     lambda m, f: bool(m.scripts) and m.scripts[0]["category"] == "通用/道别"),
    (MessageQuery(agent="agent-03"), lambda m, f: m.agent == "agent-03"),
    (MessageQuery(conversation_id="conv-0000042"), lambda m, f: m.conversation_id == "conv-0000042"),
    (MessageQuery(no_suggestion=True), lambda m, f: not m.scripts),
    (MessageQuery(max_score=0.6), lambda m, f: not m.scripts or m.scripts[0]["score"] < 0.6),
    (MessageQuery(since=SEED.start + 86400, until=SEED.start + 2 * 86400),
     lambda m, f: SEED.start + 86400 <= m.ts < SEED.start + 2 * 86400),
    (MessageQuery(agent="agent-01", action="accepted", max_score=0.8),
     lambda m, f: m.agent == "agent-01" and f is not None and f.action == "accepted"
     and m.scripts[0]["score"] < 0.8),
], ids=["risk", "edited", "no-action", "stage", "category", "agent", "conversation", "no-suggestion",
        "low-confidence", "time-range", "combined"])
def test_filters_return_exactly_the_matching_rows(seeded, seed_data, query, expect) -> None:
    expected = {m.message_id for m, f in seed_data if expect(m, f)}
    got = [r.message_id for r in walk(seeded, query)]
    assert expected, "the seed should exercise this filter"
    assert sorted(got) == sorted(expected)


def test_conversation_in_order_with_feedback(seeded, seed_data) -> None:
    rows = seeded.conversation("conv-0000007")
    expected = [m.message_id for m, _ in seed_data if m.conversation_id == "conv-0000007"]
    assert [r.message_id for r in rows] == expected
    with_feedback = {m.message_id: f.action for m, f in seed_data
                     if f and m.conversation_id == "conv-0000007"}
    assert {r.message_id: r.feedback[0].action for r in rows if r.feedback} == with_feedback


def test_metrics_match_the_seed(seeded, seed_data) -> None:
    entries = fixture_entries()
    m = compute_metrics(seeded, 0, END, entries, threshold=0.6, tz_offset_s=8 * 3600)
    messages = [rec for rec, _ in seed_data]
    actions = Counter(f.action for _, f in seed_data if f)
    suggested = [rec for rec in messages if rec.scripts]
    assert m.totals.messages == len(messages)
    assert m.totals.suggested == len(suggested)
    assert m.totals.confident == sum(rec.scripts[0]["score"] >= 0.6 for rec in suggested)
    assert (m.totals.accepted, m.totals.edited, m.totals.dismissed) == (
        actions["accepted"], actions["edited"], actions["dismissed"])
    assert m.totals.acceptance_rate == round(actions["accepted"] / len(suggested), 4)
    assert m.totals.coverage == round(m.totals.confident / len(messages), 4)
    assert sum(d.messages for d in m.days) == len(messages)
    assert len(m.days) in (SEED.days, SEED.days + 1)  # local days the range touches
    # Latency percentiles come from 0.1 ms buckets: within one bucket of the exact figure.
    exact = Counter(rec.latency_ms for rec in messages)
    assert abs(m.totals.latency_p50 - percentile(exact, 0.5)) <= 0.051
    assert abs(m.totals.latency_p99 - percentile(exact, 0.99)) <= 0.051
    risks = Counter(r["type"] for rec in messages for r in rec.risks)
    assert m.risk_totals == dict(risks)
    assert sum(sum(day.counts.values()) for day in m.risks) == sum(risks.values())
    shown = Counter(rec.scripts[0]["id"] for rec in suggested)
    assert [(u.id, u.shown) for u in m.most_used] == sorted(shown.items(), key=lambda kv: (-kv[1], kv[0]))
    assert [u.id for u in m.never_used] == ["logistics-delay"]  # the seed never suggests it
    assert m.edit_sample == actions["edited"]
    assert {e.id for e in m.most_edited} <= set(shown)
    assert all(0 < e.mean_drift <= 1 and e.mean_distance > 0 for e in m.most_edited)
    report = format_report(m)
    assert "total" in report and "logistics-delay" in report and "phishing_link" in report


def test_metrics_cover_the_whole_days_the_range_touches(seeded, seed_data) -> None:
    day2 = (SEED.start + 86400, SEED.start + 2 * 86400)  # not on day boundaries: touches 2 days
    for offset in (0, 8 * 3600):
        m = compute_metrics(seeded, *day2, fixture_entries(), tz_offset_s=offset)
        first, end = (day2[0] + offset) // 86400, -(-(day2[1] + offset) // 86400)
        assert (m.since, m.until) == (first * 86400 - offset, end * 86400 - offset)
        assert len(m.days) == 2
        assert m.totals.messages == sum(m.since <= rec.ts < m.until for rec, _ in seed_data)
    empty = compute_metrics(seeded, 0, 1000, fixture_entries())
    assert empty.totals.messages == 0 and empty.days == [] and empty.totals.latency_p50 is None
    assert len(empty.never_used) == 4


def test_labels_are_stored_masked_and_listed(empty_store) -> None:
    from assist.logstore.base import MessageRecord

    empty_store.write_messages([MessageRecord(ts=100.0, conversation_id="c", message_id="m1",
                                              agent="a", text="尺码怎么选")])
    [row] = empty_store.query_messages(MessageQuery())
    first = review.add_label(empty_store, 200.0, row.id, "wrong_entry", "size-advice",
                        "买家留了电话 13812345678", "qa-1")
    second = review.add_label(empty_store, 300.0, row.id, "right", None, "", "qa-2")
    assert first and second and "13812345678" not in first.note and "[手机号]" in first.note
    labels = review.labels_for(empty_store, [row.id])
    assert [(x.label, x.entry_id, x.author) for x in labels[row.id]] == [
        ("wrong_entry", "size-advice", "qa-1"), ("right", None, "qa-2")]
    assert review.add_label(empty_store, 1.0, 999999, "right", None, "", "qa") is None
    with pytest.raises(ValueError, match="label must be one of"):
        review.add_label(empty_store, 1.0, row.id, "great", None, "", "qa")
    assert dict(review.label_counts(empty_store, 0, 1000)) == {"wrong_entry": 1, "right": 1}


# ---- query plans: every page query is an index walk, never a table scan or a sort -------------

PAGE_QUERIES = [MessageQuery(), MessageQuery(agent="agent-03"), MessageQuery(conversation_id="c"),
                MessageQuery(category="通用/道别"), MessageQuery(risk_type="phishing_link"),
                MessageQuery(action="edited"), MessageQuery(action="none"),
                MessageQuery(no_suggestion=True), MessageQuery(before=(1.0, 5))]


def test_page_plans_use_indexes(seeded) -> None:
    """Every page query seeks on an index, on whichever store ``seeded`` is."""
    if seeded.url.startswith("sqlite"):
        _check_sqlite_plans(seeded)
    else:
        _check_postgres_plans(seeded)


def _check_sqlite_plans(seeded) -> None:
    with seeded.cursor() as cur:
        cur.execute("ANALYZE")
    for query in PAGE_QUERIES:
        sql, params = seeded.page_sql(query)
        with seeded.cursor() as cur:
            cur.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = [row[3] for row in cur.fetchall()]
        scans = [step for step in plan if step.startswith("SCAN") and "INDEX" not in step]
        assert not scans, (query, plan)
        assert not any("TEMP B-TREE FOR ORDER BY" in step for step in plan), (query, plan)


def _check_postgres_plans(seeded) -> None:
    for query in PAGE_QUERIES:
        sql, params = seeded.page_sql(query)
        with seeded.cursor() as cur:
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("EXPLAIN " + seeded.sql(sql), params)
            plan = "\n".join(row[0] for row in cur.fetchall())
        assert f"Seq Scan on {seeded.t('messages')}" not in plan, (query, plan)
