"""QA additions to the suggestion log: labels, and the aggregate queries behind the QA metrics.

Tables and indexes (created with the others by ``SqlLogStore.schema``):

- ``labels``: QA's verdict on one logged message (right / wrong_entry / missing_entry), with the
  entry QA thinks should have matched and a note. Several per message are kept (history); the
  newest one counts.
- covering indexes so every raw aggregate is one range scan that never touches the table rows:
  messages (ts, top_id, top_score, latency_ms), feedback (message_ts, action, suggestion_id,
  edit_distance, edit_drift_ppm: created by ``summaries.upgrade``), message_risks (ts, risk_type).

The metrics normally read the daily counters (``summaries``); these raw aggregates are the
reference they are tested against, and the fallback for a day offset or threshold the counters
cannot answer. Every aggregate is bounded by a time range; days are local days at ``tz_offset_s``;
feedback counts on its message's day (``message_ts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from assist.core.vocabulary import QA_LABELS, QaLabel
from assist.logstore.masking import mask

if TYPE_CHECKING:
    from assist.logstore.base import LogStore, MessageRow

LabelKind = QaLabel
LABELS: tuple[str, ...] = QA_LABELS
DAY = 86400


class LabelRow(BaseModel):
    id: int
    ts: float
    message_pk: int
    message_id: str
    label: LabelKind
    entry_id: str | None = Field(default=None, description="the entry that should have matched")
    note: str = ""
    author: str


def qa_schema(store: LogStore) -> list[str]:
    m, r, lab = (store.t(n) for n in ("messages", "message_risks", "labels"))
    return [
        f"""CREATE TABLE IF NOT EXISTS {lab} (
            id {store.id_type}, ts DOUBLE PRECISION NOT NULL, message_pk BIGINT NOT NULL,
            message_id TEXT NOT NULL, label TEXT NOT NULL, entry_id TEXT, note TEXT NOT NULL,
            author TEXT NOT NULL)""",
        f"CREATE INDEX IF NOT EXISTS {lab}_message ON {lab} (message_pk, ts)",
        f"CREATE INDEX IF NOT EXISTS {lab}_ts ON {lab} (ts)",
        f"CREATE INDEX IF NOT EXISTS {m}_qa_metrics ON {m} (ts, top_id, top_score, latency_ms)",
        f"CREATE INDEX IF NOT EXISTS {r}_qa_ts ON {r} (ts, risk_type)",
    ]


# ---- labels ------------------------------------------------------------------------------------

def add_label(store: LogStore, ts: float, message_pk: int, label: str, entry_id: str | None,
              note: str, author: str) -> LabelRow | None:
    """Store a label for the logged message ``message_pk``; None if there is no such message."""
    if label not in LABELS:
        raise ValueError(f"label must be one of {', '.join(LABELS)}, got {label!r}")
    note = mask(note)  # a note may quote the buyer; the log keeps no personal data
    with store.cursor() as cur:
        cur.execute(store.sql(f"SELECT message_id FROM {store.t('messages')} WHERE id = ?"),
                    [message_pk])
        found = cur.fetchone()
        if found is None:
            return None
        row = (ts, message_pk, found[0], label, entry_id or None, note, author)
        insert = store.sql(f"INSERT INTO {store.t('labels')} (ts, message_pk, message_id, label, "
                           "entry_id, note, author) VALUES (?, ?, ?, ?, ?, ?, ?)")
        [pk] = store.insert_ids(cur, insert, [row])
    return LabelRow(id=pk, ts=ts, message_pk=message_pk, message_id=found[0], label=label,
                    entry_id=entry_id or None, note=note, author=author)


def labels_for(store: LogStore, message_pks: Sequence[int]) -> dict[int, list[LabelRow]]:
    """Labels of these messages, oldest first, by message pk (one indexed IN lookup)."""
    if not message_pks:
        return {}
    marks = ", ".join("?" * len(message_pks))
    with store.cursor() as cur:
        cur.execute(store.sql(f"SELECT id, ts, message_pk, message_id, label, entry_id, note, author "
                              f"FROM {store.t('labels')} WHERE message_pk IN ({marks}) "
                              "ORDER BY ts, id"), list(message_pks))
        rows = cur.fetchall()
    result: dict[int, list[LabelRow]] = {}
    for r in rows:
        result.setdefault(int(r[2]), []).append(LabelRow(
            id=r[0], ts=r[1], message_pk=r[2], message_id=r[3], label=r[4], entry_id=r[5],
            note=r[6], author=r[7]))
    return result


def message_by_pk(store: LogStore, pk: int) -> MessageRow | None:
    from assist.logstore.base import MESSAGE_COLUMNS, prefixed

    rows = store.message_rows(f"SELECT {prefixed('m.', MESSAGE_COLUMNS)} FROM {store.t('messages')} m "
                       "WHERE m.id = ?", [pk])
    return rows[0] if rows else None


def latest_by_message_id(store: LogStore, message_id: str) -> list[MessageRow]:
    """Logged messages with this platform message id, newest first (ids may repeat across chats)."""
    from assist.logstore.base import MESSAGE_COLUMNS, prefixed

    return store.message_rows(f"SELECT {prefixed('m.', MESSAGE_COLUMNS)} FROM {store.t('messages')} m "
                       "WHERE m.message_id = ? ORDER BY m.ts DESC, m.id DESC LIMIT 20", [message_id])


# ---- aggregates --------------------------------------------------------------------------------

def _day(store: LogStore, column: str = "ts") -> str:
    """The local day number of ``column`` (the offset is the first parameter)."""
    if store.url.startswith("sqlite"):
        return f"CAST(({column} + ?) / {DAY} AS INTEGER)"  # ts > 0: truncation is floor
    return f"CAST(FLOOR(({column} + ?) / {DAY}) AS BIGINT)"  # PostgreSQL's CAST rounds


def _latency_bucket(store: LogStore) -> str:
    """``summaries.latency_bucket`` in SQL, with the same float operations (so the same buckets):
    0.1 ms below 100 ms, 1 ms below 1 s, 10 ms above, rounded half up."""
    floor = "CAST({} AS INTEGER)" if store.url.startswith("sqlite") else "FLOOR({})"  # x >= 0
    return (f"CASE WHEN latency_ms < 100 THEN {floor.format('latency_ms * 10 + 0.5')} / 10.0 "
            f"WHEN latency_ms < 1000 THEN {floor.format('latency_ms + 0.5')} * 1.0 "
            f"ELSE {floor.format('latency_ms / 10 + 0.5')} * 10.0 END")


def _fetch(store: LogStore, sql: str, params: list) -> list[tuple]:
    with store.cursor() as cur:
        cur.execute(store.sql(sql), params)
        return [tuple(r) for r in cur.fetchall()]


def daily_messages(store: LogStore, since: float, until: float, threshold: float,
                   tz_offset_s: int) -> list[tuple[int, float, int, int, int]]:
    """(day, latency bucket in ms, messages, with a suggestion, with one scoring >= threshold):
    one scan gives both the daily counts and the latency histograms."""
    day = _day(store)
    return _fetch(store, f"SELECT {day} AS d, {_latency_bucket(store)} AS b, COUNT(*), COUNT(top_id), "
                         "SUM(CASE WHEN top_score >= ? THEN 1 ELSE 0 END) "
                         f"FROM {store.t('messages')} WHERE ts >= ? AND ts < ? GROUP BY d, b",
                  [tz_offset_s, threshold, since, until])


def daily_feedback(store: LogStore, since: float, until: float,
                   tz_offset_s: int) -> list[tuple[int, str, int]]:
    """(day of the message, action, count)."""
    day = _day(store, "message_ts")
    return _fetch(store, f"SELECT {day} AS d, action, COUNT(*) FROM {store.t('feedback')} "
                         "WHERE message_ts >= ? AND message_ts < ? GROUP BY d, action",
                  [tz_offset_s, since, until])


def daily_risks(store: LogStore, since: float, until: float,
                tz_offset_s: int) -> list[tuple[int, str, int]]:
    """(day, risk type, messages flagged with it)."""
    day = _day(store)
    return _fetch(store, f"SELECT {day} AS d, risk_type, COUNT(*) FROM {store.t('message_risks')} "
                         "WHERE ts >= ? AND ts < ? GROUP BY d, risk_type",
                  [tz_offset_s, since, until])


def top_counts(store: LogStore, since: float, until: float) -> list[tuple[str, int]]:
    """(entry id, times it was the top suggestion)."""
    return _fetch(store, f"SELECT top_id, COUNT(*) FROM {store.t('messages')} "
                         "WHERE ts >= ? AND ts < ? AND top_id IS NOT NULL GROUP BY top_id",
                  [since, until])


def feedback_counts(store: LogStore, since: float, until: float) -> list[tuple[str, str, int]]:
    """(suggestion id, action, count) of feedback on messages in the range."""
    return _fetch(store, f"SELECT suggestion_id, action, COUNT(*) FROM {store.t('feedback')} "
                         "WHERE message_ts >= ? AND message_ts < ? GROUP BY suggestion_id, action",
                  [since, until])


def entry_edits(store: LogStore, since: float, until: float) -> list[tuple[str, int, int, int]]:
    """(entry id, edits measured, sum of edit distances, sum of drift in millionths) of edits
    on messages in the range (each measured when it was written)."""
    return _fetch(store, f"SELECT suggestion_id, COUNT(*), SUM(edit_distance), SUM(edit_drift_ppm) "
                         f"FROM {store.t('feedback')} WHERE message_ts >= ? AND message_ts < ? "
                         "AND action = 'edited' AND edit_distance IS NOT NULL GROUP BY suggestion_id",
                  [since, until])


def label_counts(store: LogStore, since: float, until: float) -> list[tuple[str, int]]:
    """(label, count) of labels given in the range."""
    return _fetch(store, f"SELECT label, COUNT(*) FROM {store.t('labels')} WHERE ts >= ? AND ts < ? "
                         "GROUP BY label", [since, until])
