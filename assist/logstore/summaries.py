"""Daily summaries of the suggestion log, kept by the log writer in the same transaction as the
rows they count, so the QA metrics read a few thousand counters instead of scanning the range.

One counter table, ``qa_daily (day, metric, key, n)``. ``day`` is the local day number at the
store's summary offset (``day_offset_s`` in ``qa_meta``; UTC+8 unless rebuilt with another):

============  ============  ====================================================================
metric        key           counts
============  ============  ====================================================================
messages      ''            messages
suggested     ''            messages with a top suggestion
shown         entry id      times the entry was the top suggestion
score         k             messages whose top score s has k = max{k : s >= k/100}; so
                            "score >= t" is exact for any threshold t on the 0.01 grid
latency       bucket (ms)   messages per latency bucket: 0.1 ms below 100 ms, 1 ms below 1 s,
                            10 ms above (values rounded half up to the bucket)
risk          risk type     messages flagged with that type
action        action        feedback rows, counted on their **message's** day
fb:<action>   entry id      feedback rows per entry the agent picked, on the message's day
edits         entry id      edits measured: the suggestion's reply was logged with the message
edit_distance entry id      sum of edit distances, reply → final text (characters)
edit_drift    entry id      sum of drift (distance / longer length) in millionths
============  ============  ====================================================================

Feedback arrives after its message: the writer resolves the message (newest logged message with
that platform id) and stores its pk and ts on the feedback row (``message_pk``, ``message_ts``;
the feedback's own ts when the message is not in the log), measures an edit against the reply
the agent was shown (``edit_distance``, ``edit_drift_ppm``), then adds to that day's counters.
A store opened without summaries (a new store, or one from before them) is upgraded and rebuilt
once, in one transaction; ``rebuild`` also serves ``assist qa rebuild-summaries``.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from rapidfuzz.distance import Levenshtein

if TYPE_CHECKING:
    from assist.logstore.base import LogStore

log = logging.getLogger(__name__)

DAY = 86400
VERSION = "1"  # bump when what the counters mean changes: stores rebuild on open
DEFAULT_DAY_OFFSET_S = 8 * 3600  # China Standard Time: the shops this serves
_CHUNK = 20_000
# Feedback columns added after the first release (older stores get them on open).
_FEEDBACK_COLUMNS = {"message_pk": "BIGINT", "message_ts": "DOUBLE PRECISION",
                     "edit_distance": "BIGINT", "edit_drift_ppm": "BIGINT"}

Key = tuple[int, str, str]
# Metrics the per-day series need day by day; the others (per entry) are only ever summed.
DAILY_METRICS = ("messages", "suggested", "score", "latency", "risk", "action")


# ---- buckets (the raw SQL in logstore.qa computes the same with the same float operations) ------

def day_of(ts: float, offset_s: int) -> int:
    return math.floor((ts + offset_s) / DAY)


def latency_bucket(ms: float) -> float:
    """The latency histogram bucket of ``ms`` (>= 0): the value rounded half up to 0.1 ms below
    100 ms, 1 ms below 1 s, 10 ms above."""
    if ms < 100:
        return int(ms * 10 + 0.5) / 10
    if ms < 1000:
        return float(int(ms + 0.5))
    return int(ms / 10 + 0.5) * 10.0


def score_bucket(score: float) -> int:
    """The largest k with ``score >= k / 100`` (exact in floats, not just ``floor(score * 100)``)."""
    k = math.floor(score * 100)
    while score < k / 100:
        k -= 1
    while score >= (k + 1) / 100:
        k += 1
    return k


def grid_threshold(threshold: float) -> int | None:
    """k when ``threshold == k / 100`` exactly (the summaries can answer it), else None."""
    k = round(threshold * 100)
    return k if k / 100 == threshold else None


def shown_reply(suggestions: Any, entry_id: str) -> str | None:
    """The reply the agent was shown for ``entry_id``, from a message's logged suggestions."""
    if isinstance(suggestions, str | bytes):
        suggestions = json.loads(suggestions)
    for script in (suggestions or {}).get("scripts", []):
        if script.get("id") == entry_id:
            return script.get("reply")
    return None


def measure_edit(reply: str, final_text: str) -> tuple[int, int]:
    """(character edit distance, drift in millionths: distance / the longer text's length)."""
    distance = Levenshtein.distance(reply, final_text)  # rapidfuzz's C++: cheap per row
    return distance, round(distance * 1_000_000 / max(len(reply), len(final_text), 1))


# ---- counters ------------------------------------------------------------------------------------

class MessageFacts(NamedTuple):
    """What the counters need of one stored message (columns of the messages table)."""

    ts: float
    top_id: str | None
    top_score: float | None
    latency_ms: float
    risk_types: str


class FeedbackFacts(NamedTuple):
    """What the counters need of one stored feedback record (columns of the feedback table)."""

    message_ts: float
    action: str
    suggestion_id: str
    edit_distance: int | None
    edit_drift_ppm: int | None


def message_counters(rows: Iterable[MessageFacts], offset_s: int) -> Counter[Key]:
    """Counters for stored messages."""
    counts: Counter[Key] = Counter()
    for ts, top_id, top_score, latency_ms, risk_types in rows:
        day = day_of(ts, offset_s)
        counts[day, "messages", ""] += 1
        if top_id is not None:
            counts[day, "suggested", ""] += 1
            counts[day, "shown", top_id] += 1
        if top_score is not None:
            counts[day, "score", str(score_bucket(top_score))] += 1
        counts[day, "latency", repr(latency_bucket(latency_ms))] += 1
        for kind in risk_types.split(","):
            if kind:
                counts[day, "risk", kind] += 1
    return counts


def feedback_counters(rows: Iterable[FeedbackFacts], offset_s: int) -> Counter[Key]:
    """Counters for stored feedback."""
    counts: Counter[Key] = Counter()
    for message_ts, action, suggestion_id, distance, drift_ppm in rows:
        day = day_of(message_ts, offset_s)
        counts[day, "action", action] += 1
        counts[day, "fb:" + action, suggestion_id] += 1
        if distance is not None:
            counts[day, "edits", suggestion_id] += 1
            counts[day, "edit_distance", suggestion_id] += distance
            counts[day, "edit_drift", suggestion_id] += drift_ppm or 0
    return counts


# ---- schema and upkeep ---------------------------------------------------------------------------

def summary_schema(store: LogStore) -> list[str]:
    s, meta = store.t("qa_daily"), store.t("qa_meta")
    rowid = " WITHOUT ROWID" if _sqlite(store) else ""
    return [
        f"""CREATE TABLE IF NOT EXISTS {s} (
            day BIGINT NOT NULL, metric TEXT NOT NULL, key TEXT NOT NULL, n BIGINT NOT NULL,
            PRIMARY KEY (day, metric, key)){rowid}""",
        f"CREATE TABLE IF NOT EXISTS {meta} (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ]


def add(store: LogStore, cur: Any, counts: Counter[Key]) -> None:
    """Add ``counts`` to the counters, inside the caller's transaction. Sorted, so concurrent
    writers (PostgreSQL, several services) take row locks in one order and cannot deadlock."""
    if not counts:
        return
    s = store.t("qa_daily")
    cur.executemany(store.sql(f"INSERT INTO {s} (day, metric, key, n) VALUES (?, ?, ?, ?) "
                              f"ON CONFLICT (day, metric, key) DO UPDATE SET n = {s}.n + excluded.n"),
                    [(*key, n) for key, n in sorted(counts.items())])


def day_offset(store: LogStore, cur: Any) -> int:
    """The summaries' day offset, read in the caller's transaction. On PostgreSQL the counter
    table is locked (row-exclusive, as an upsert would) first: a rebuild holds it exclusively,
    so a writer waits for it and then sees the offset the rebuild wrote."""
    if not _sqlite(store):
        cur.execute(f"LOCK TABLE {store.t('qa_daily')} IN ROW EXCLUSIVE MODE")
    found = _meta(store, cur)
    return int(found.get("day_offset_s", DEFAULT_DAY_OFFSET_S))


def state(store: LogStore) -> tuple[bool, int]:
    """(summaries built and current, their day offset)."""
    with store.cursor() as cur:
        found = _meta(store, cur)
    return (found.get("version") == VERSION,
            int(found.get("day_offset_s", DEFAULT_DAY_OFFSET_S)))


def upgrade(store: LogStore) -> None:
    """Bring an older store up to date (feedback columns, indexes); rebuild stale summaries."""
    f = store.t("feedback")
    with store.cursor() as cur:
        cur.execute(f"SELECT * FROM {f} WHERE 1 = 0")
        columns = {d[0] for d in cur.description}
        exists = "" if _sqlite(store) else "IF NOT EXISTS "  # two services upgrading at once
        for name, kind in _FEEDBACK_COLUMNS.items():
            if name not in columns:
                cur.execute(f"ALTER TABLE {f} ADD COLUMN {exists}{name} {kind}")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {f}_qa_day ON {f} (message_ts, action, suggestion_id, "
                    "edit_distance, edit_drift_ppm)")
        cur.execute(f"DROP INDEX IF EXISTS {f}_qa_metrics")  # the (ts, ...) one it replaces
    built, offset = state(store)
    if not built:
        rebuild(store, offset)


def rebuild(store: LogStore, offset_s: int | None = None) -> int:
    """Recount every summary from the raw rows in one transaction (writers wait for it); returns
    the number of counters. ``offset_s`` changes the day offset (default: keep the current one)."""
    s, m, f = store.t("qa_daily"), store.t("messages"), store.t("feedback")
    with store.cursor() as cur:
        # Take the write lock before reading: SQLite's first write does, PostgreSQL's LOCK does.
        if not _sqlite(store):
            cur.execute(f"LOCK TABLE {s} IN EXCLUSIVE MODE")
        cur.execute(f"DELETE FROM {s}")
        current = _meta(store, cur)
        offset = int(current.get("day_offset_s", DEFAULT_DAY_OFFSET_S)) if offset_s is None else offset_s
        _resolve_old_feedback(store, cur)
        _measure_old_edits(store, cur)
        counts = Counter[Key]()
        # Columns named after the facts' fields, so the SELECT and the tuples cannot disagree.
        columns = ", ".join(("id", *MessageFacts._fields))
        for chunk in _chunks(store, cur, f"SELECT {columns} FROM {m}"):
            counts.update(message_counters((MessageFacts(*r[1:]) for r in chunk), offset))
        columns = ", ".join(("id", *FeedbackFacts._fields))
        for chunk in _chunks(store, cur, f"SELECT {columns} FROM {f}"):
            counts.update(feedback_counters((FeedbackFacts(*r[1:]) for r in chunk), offset))
        add(store, cur, counts)
        for name, value in (("version", VERSION), ("day_offset_s", str(offset))):
            cur.execute(store.sql(f"INSERT INTO {store.t('qa_meta')} (name, value) VALUES (?, ?) "
                                  "ON CONFLICT (name) DO UPDATE SET value = excluded.value"), [name, value])
    log.info("rebuilt %d QA summary counters (day offset %+d s)", len(counts), offset)
    return len(counts)


def read(store: LogStore, first_day: int, end_day: int) -> list[tuple[int, str, str, int]]:
    """Every counter of days [first_day, end_day)."""
    return _read(store, "SELECT day, metric, key, n FROM {} WHERE day >= ? AND day < ?",
                 [first_day, end_day])


def read_days(store: LogStore, first_day: int, end_day: int) -> list[tuple[int, str, str, int]]:
    """The per-day series' counters (DAILY_METRICS) of days [first_day, end_day)."""
    return _read(store, f"SELECT day, metric, key, n FROM {{}} WHERE day >= ? AND day < ? "
                        f"AND metric IN ({', '.join('?' * len(DAILY_METRICS))})",
                 [first_day, end_day, *DAILY_METRICS])


def read_totals(store: LogStore, first_day: int, end_day: int) -> list[tuple[int, str, str, int]]:
    """The per-entry counters summed over days [first_day, end_day) (day is returned as 0): the
    database adds up a month of them, Python sees one row per entry and metric."""
    return _read(store, f"SELECT 0, metric, key, SUM(n) FROM {{}} WHERE day >= ? AND day < ? "
                        f"AND metric NOT IN ({', '.join('?' * len(DAILY_METRICS))}) GROUP BY metric, key",
                 [first_day, end_day, *DAILY_METRICS])


def _read(store: LogStore, sql: str, params: list) -> list[tuple[int, str, str, int]]:
    with store.cursor() as cur:
        cur.execute(store.sql(sql.format(store.t("qa_daily"))), params)
        return [(int(r[0]), r[1], r[2], int(r[3])) for r in cur.fetchall()]


def _resolve_old_feedback(store: LogStore, cur: Any) -> None:
    """Feedback stored before summaries existed: attach it to the newest message with its id."""
    f, m = store.t("feedback"), store.t("messages")
    cur.execute(f"UPDATE {f} SET message_pk = (SELECT id FROM {m} WHERE {m}.message_id = {f}.message_id "
                f"ORDER BY ts DESC, id DESC LIMIT 1) WHERE message_ts IS NULL")
    cur.execute(f"UPDATE {f} SET message_ts = COALESCE((SELECT ts FROM {m} WHERE {m}.id = {f}.message_pk), "
                f"{f}.ts) WHERE message_ts IS NULL")


def _measure_old_edits(store: LogStore, cur: Any) -> None:
    """Edits stored before they were measured on write (or whose shown reply was not found)."""
    f, m = store.t("feedback"), store.t("messages")
    select = (f"SELECT f.id, f.suggestion_id, f.final_text, m.suggestions FROM {f} f "
              f"LEFT JOIN {m} m ON m.id = f.message_pk")
    where = "f.action = 'edited' AND f.final_text IS NOT NULL AND f.edit_distance IS NULL"
    measured = []
    for chunk in _chunks(store, cur, select, key="f.id", where=where):
        for pk, suggestion_id, final_text, suggestions in chunk:
            reply = shown_reply(suggestions, suggestion_id)
            if reply is not None:
                measured.append((*measure_edit(reply, final_text), pk))
    if measured:
        cur.executemany(store.sql(f"UPDATE {f} SET edit_distance = ?, edit_drift_ppm = ? "
                                  "WHERE id = ?"), measured)


def _chunks(store: LogStore, cur: Any, select: str, key: str = "id",
            where: str = "") -> Iterable[list[tuple]]:
    """``select`` (whose first column is ``key``, the id) in id order, a chunk at a time, so
    memory stays bounded; ``where`` narrows it."""
    after = -1
    condition = f"{where} AND {key} > ?" if where else f"{key} > ?"
    while True:
        cur.execute(store.sql(f"{select} WHERE {condition} ORDER BY {key} LIMIT {_CHUNK}"), [after])
        rows = cur.fetchall()
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def _meta(store: LogStore, cur: Any) -> dict[str, str]:
    cur.execute(f"SELECT name, value FROM {store.t('qa_meta')}")
    return {r[0]: r[1] for r in cur.fetchall()}


def _sqlite(store: LogStore) -> bool:
    return store.url.startswith("sqlite")
