"""The suggestion-log interface and the SQL both backends share.

Tables (names are prefixed by ``prefix``, empty by default):

- ``messages``: one row per customer message: ts (epoch seconds), conversation_id, message_id,
  agent, text (masked), attachments / suggestions / risks (JSON), top_id, top_score,
  top_category, risk_types (comma list), latency_ms, index_version.
- ``message_risks``: (risk_type, ts, message_pk): one row per risk type flagged on a message,
  so filtering by risk type is an index range, not a JSON scan.
- ``feedback``: ts, message_id, suggestion_id, action, final_text (masked), agent, and, worked
  out when it is written: the logged message it answers (message_pk, message_ts) and for an
  edit its distance from the reply shown (edit_distance, edit_drift_ppm).
- ``qa_daily`` / ``qa_meta``: daily counters for the QA metrics, updated in the same transaction
  as the rows (``assist.logstore.summaries``).

Reads page by keyset on (ts, id) descending: ``before=(ts, id)`` of the last row seen.
Backends differ only in connecting, placeholders, DDL types and fetching generated ids.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import math
import re
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol, overload

from pydantic import BaseModel, Field

from assist.core.vocabulary import FeedbackAction
from assist.logstore import summaries
from assist.logstore.masking import mask
from assist.logstore.review import qa_schema


class LogStoreError(ValueError):
    """The store cannot be opened at start-up; the message names what and why, in one line."""


@dataclass
class MessageRecord:
    """What the service hands the writer: raw text; masking happens when it is stored."""

    ts: float
    conversation_id: str
    message_id: str
    agent: str
    text: str
    attachments: list[dict[str, Any]] = field(default_factory=list)
    scripts: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    risks: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: float = 0.0
    index_version: str = ""
    masked: bool = False  # set by ``SqlLogStore.prepare``: sanitised and masked, store as is


@dataclass
class FeedbackRecord:
    ts: float
    message_id: str
    suggestion_id: str
    action: str
    agent: str
    final_text: str | None = None
    masked: bool = False


class FeedbackRow(BaseModel):
    ts: float
    message_id: str
    suggestion_id: str
    action: str
    final_text: str | None
    agent: str


class MessageRow(BaseModel):
    id: int
    ts: float
    conversation_id: str
    message_id: str
    agent: str
    text: str
    attachments: list[dict[str, Any]]
    suggestions: dict[str, Any]
    top_id: str | None
    top_score: float | None
    top_category: str | None
    risks: list[dict[str, Any]]
    risk_types: list[str]
    latency_ms: float
    index_version: str
    feedback: list[FeedbackRow] = Field(default_factory=list)


class MessageQuery(BaseModel):
    """Filters for ``query_messages``; all optional, combined with AND."""

    since: float | None = None
    until: float | None = None
    conversation_id: str | None = None
    agent: str | None = None
    category: str | None = Field(default=None, description="top suggestion's category prefix")
    risk_type: str | None = None
    action: FeedbackAction | Literal["none"] | None = None
    no_suggestion: bool = False
    max_score: float | None = Field(default=None, description="top score below this (low confidence)")
    before: tuple[float, int] | None = Field(default=None, description="keyset cursor (ts, id)")
    limit: int = Field(default=50, ge=1, le=1000)


class LogStore(Protocol):
    """What the service and QA use; SQLite and PostgreSQL (``SqlLogStore``) implement it.

    Besides records in and rows out, QA's queries (``review``, ``summaries``, ``assist.qa``) use
    the SQL surface: table names, the dialect's placeholders and a transaction cursor.
    """

    url: str
    id_type: str

    def t(self, name: str) -> str: ...
    def sql(self, text: str) -> str: ...
    def cursor(self) -> AbstractContextManager[Any]: ...
    def insert_ids(self, cur: Any, sql: str, rows: Sequence[tuple]) -> list[int]: ...
    def message_rows(self, sql: str, params: list[Any]) -> list[MessageRow]: ...

    @overload
    def prepare(self, record: MessageRecord) -> MessageRecord: ...
    @overload
    def prepare(self, record: FeedbackRecord) -> FeedbackRecord: ...
    def reconnect(self) -> None: ...
    def is_storage_error(self, exc: BaseException) -> bool: ...
    def write_messages(self, records: Sequence[MessageRecord]) -> None: ...
    def write_feedback(self, records: Sequence[FeedbackRecord]) -> None: ...
    def query_messages(self, query: MessageQuery) -> list[MessageRow]: ...
    def conversation(self, conversation_id: str, limit: int = 500) -> list[MessageRow]: ...
    def feedback_for(self, message_ids: Sequence[str]) -> list[FeedbackRow]: ...
    def count_messages(self) -> int: ...
    def close(self) -> None: ...


class MessageInsert(NamedTuple):
    """One row of the messages table as written (masked), in column order."""

    ts: float
    conversation_id: str
    message_id: str
    agent: str
    text: str
    attachments: str
    suggestions: str
    top_id: str | None
    top_score: float | None
    top_category: str | None
    risks: str
    risk_types: str
    latency_ms: float
    index_version: str

    def facts(self) -> summaries.MessageFacts:
        return summaries.MessageFacts(self.ts, self.top_id, self.top_score, self.latency_ms,
                                      self.risk_types)


class FeedbackInsert(NamedTuple):
    """One row of the feedback table as written (masked), in column order."""

    ts: float
    message_id: str
    suggestion_id: str
    action: str
    final_text: str | None
    agent: str
    message_pk: int | None
    message_ts: float
    edit_distance: int | None
    edit_drift_ppm: int | None

    def facts(self) -> summaries.FeedbackFacts:
        return summaries.FeedbackFacts(self.message_ts, self.action, self.suggestion_id,
                                       self.edit_distance, self.edit_drift_ppm)


MESSAGE_COLUMNS = ", ".join(("id", *MessageInsert._fields))


class SqlLogStore:
    """Shared SQL; subclasses set the dialect bits. One connection per thread."""

    id_type = "INTEGER PRIMARY KEY AUTOINCREMENT"
    json_type = "TEXT"
    placeholder = "?"
    # Errors that mean "the store cannot write now" (disk, file, connection), as opposed to
    # "this record cannot be written" (bad value): the writer spools on the first, isolates the
    # record on the second. Subclasses add their driver's classes.
    storage_errors: tuple[type[BaseException], ...] = (OSError,)

    def __init__(self, url: str, prefix: str = "") -> None:
        if prefix and not prefix.replace("_", "").isalnum():
            raise ValueError(f"table prefix must be letters, digits and '_', got {prefix!r}")
        self.url = url
        self.prefix = prefix
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        # Several service processes start at once against one PostgreSQL: concurrent CREATE
        # TABLE IF NOT EXISTS can still collide there, so the set-up is serialised.
        with self.cursor() as cur:
            self._lock_schema(cur)
        try:
            self._create()
        finally:
            with self.cursor() as cur:
                self._unlock_schema(cur)

    def _create(self) -> None:
        with self.cursor() as cur:
            for statement in self.schema():
                cur.execute(statement)
            cur.execute(self.sql(f"INSERT INTO {self.t('qa_meta')} (name, value) VALUES (?, ?) "
                                 "ON CONFLICT (name) DO NOTHING"), ["id_key", secrets.token_hex(16)])
            cur.execute(self.sql(f"SELECT value FROM {self.t('qa_meta')} WHERE name = ?"), ["id_key"])
            self._id_key = bytes.fromhex(cur.fetchone()[0])
        summaries.upgrade(self)

    def reconnect(self) -> None:
        """Drop every connection and open the store again (tables too: a SQLite file that was
        deleted is created anew). Raises what connecting raises while the store is down."""
        self.close()
        self._create()

    def is_storage_error(self, exc: BaseException) -> bool:
        return isinstance(exc, self.storage_errors)

    # ---- masking -------------------------------------------------------------------------------
    def stored_id(self, conversation_id: str) -> str:
        """A conversation id as stored: masked, plus a keyed digest of the original when masking
        changed it, so two buyers' ids masked alike stay two conversations. Idempotent, so a QA
        query may pass the raw id or the stored one."""
        masked = mask(conversation_id)
        if masked == conversation_id:
            return conversation_id
        digest = hmac.new(self._id_key, conversation_id.encode("utf-8", "replace"), hashlib.sha256)
        # "~k" + hex: glued to a letter, the digest's digits never read as a number to mask.
        return f"{masked}~k{digest.hexdigest()[:10]}"

    @overload
    def prepare(self, record: MessageRecord) -> MessageRecord: ...
    @overload
    def prepare(self, record: FeedbackRecord) -> FeedbackRecord: ...

    def prepare(self, record: MessageRecord | FeedbackRecord) -> MessageRecord | FeedbackRecord:
        """A copy fit to store or spool: text made valid (lone surrogates, NULs, non-finite
        numbers) and personal data masked, in the text, attachment names, risk evidence,
        feedback text and conversation id."""
        if record.masked:
            return record
        if isinstance(record, FeedbackRecord):
            final = None if record.final_text is None else mask(clean(record.final_text))
            return dataclasses.replace(record, ts=_finite_ts(record.ts), message_id=clean(record.message_id),
                                       suggestion_id=clean(record.suggestion_id),
                                       action=clean(record.action), agent=clean(record.agent),
                                       final_text=final, masked=True)
        return dataclasses.replace(
            record, ts=_finite_ts(record.ts), conversation_id=self.stored_id(clean(record.conversation_id)),
            message_id=clean(record.message_id), agent=clean(record.agent), text=mask(clean(record.text)),
            attachments=[{k: mask(v) if k == "name" and isinstance(v, str) else v
                          for k, v in clean(a).items()} for a in record.attachments],
            scripts=clean(record.scripts), policies=clean(record.policies),
            risks=[{**risk, "evidence": mask(str(risk.get("evidence", "")))} for risk in clean(record.risks)],
            latency_ms=_finite(record.latency_ms), index_version=clean(record.index_version), masked=True)

    # ---- dialect hooks -------------------------------------------------------------------------
    def _connect(self) -> Any:
        raise NotImplementedError

    def insert_ids(self, cur: Any, sql: str, rows: Sequence[tuple]) -> list[int]:
        raise NotImplementedError

    def _lock_schema(self, cur: Any) -> None:
        """Hold a lock across this store's set-up transactions (none needed by SQLite, whose
        writers serialise on the file)."""

    def _unlock_schema(self, cur: Any) -> None:
        pass

    def _before_write(self) -> None:
        """Raise a storage error when a write would silently go nowhere (SQLite: file deleted)."""

    # ---- plumbing ------------------------------------------------------------------------------
    def t(self, name: str) -> str:
        """A table name with this store's prefix."""
        return f"{self.prefix}{name}"

    def sql(self, text: str) -> str:
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            with self._lock:
                self._all.append(conn)
        cur = conn.cursor()
        try:
            yield cur
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            cur.close()

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                with suppress(Exception):  # a connection another thread already broke
                    conn.close()
            self._all.clear()
        self._local = threading.local()

    def schema(self) -> list[str]:
        m, r, f = self.t("messages"), self.t("message_risks"), self.t("feedback")
        return [
            f"""CREATE TABLE IF NOT EXISTS {m} (
                id {self.id_type}, ts DOUBLE PRECISION NOT NULL,
                conversation_id TEXT NOT NULL, message_id TEXT NOT NULL, agent TEXT NOT NULL,
                text TEXT NOT NULL, attachments {self.json_type} NOT NULL,
                suggestions {self.json_type} NOT NULL, top_id TEXT, top_score DOUBLE PRECISION,
                top_category TEXT, risks {self.json_type} NOT NULL, risk_types TEXT NOT NULL,
                latency_ms DOUBLE PRECISION NOT NULL, index_version TEXT NOT NULL)""",
            f"CREATE INDEX IF NOT EXISTS {m}_ts ON {m} (ts, id)",
            f"CREATE INDEX IF NOT EXISTS {m}_conversation ON {m} (conversation_id, ts)",
            f"CREATE INDEX IF NOT EXISTS {m}_agent ON {m} (agent, ts)",
            f"CREATE INDEX IF NOT EXISTS {m}_message ON {m} (message_id)",
            f"CREATE INDEX IF NOT EXISTS {m}_category ON {m} (top_category, ts)",
            f"""CREATE TABLE IF NOT EXISTS {r} (
                risk_type TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL, message_pk BIGINT NOT NULL,
                PRIMARY KEY (risk_type, ts, message_pk))""",
            f"""CREATE TABLE IF NOT EXISTS {f} (
                id {self.id_type}, ts DOUBLE PRECISION NOT NULL, message_id TEXT NOT NULL,
                suggestion_id TEXT NOT NULL, action TEXT NOT NULL, final_text TEXT,
                agent TEXT NOT NULL, message_pk BIGINT, message_ts DOUBLE PRECISION,
                edit_distance BIGINT, edit_drift_ppm BIGINT)""",
            f"CREATE INDEX IF NOT EXISTS {f}_message ON {f} (message_id)",
            f"CREATE INDEX IF NOT EXISTS {f}_action ON {f} (action, ts)",
            f"CREATE INDEX IF NOT EXISTS {f}_suggestion ON {f} (suggestion_id, ts)",
            f"CREATE INDEX IF NOT EXISTS {f}_ts ON {f} (ts)",
            *qa_schema(self),
            *summaries.summary_schema(self),
        ]

    # ---- writes --------------------------------------------------------------------------------
    def write_messages(self, records: Sequence[MessageRecord]) -> None:
        """Store a batch and its daily counters in one transaction, masking personal data first."""
        if not records:
            return
        records = [self.prepare(r) for r in records]
        self._before_write()
        rows = [self._message_row(r) for r in records]
        insert = self.sql(f"INSERT INTO {self.t('messages')} ({', '.join(MessageInsert._fields)}) "
                          f"VALUES ({', '.join('?' * len(MessageInsert._fields))})")
        with self.cursor() as cur:
            ids = self.insert_ids(cur, insert, rows)
            risk_rows = {(kind, rec.ts, pk) for rec, pk in zip(records, ids, strict=True)
                         for kind in {str(risk.get("type")) for risk in rec.risks}}
            if risk_rows:
                cur.executemany(self.sql(f"INSERT INTO {self.t('message_risks')} "
                                         "(risk_type, ts, message_pk) VALUES (?, ?, ?)"),
                                sorted(risk_rows))
            offset = summaries.day_offset(self, cur)
            summaries.add(self, cur, summaries.message_counters((row.facts() for row in rows), offset))

    @staticmethod
    def _message_row(r: MessageRecord) -> MessageInsert:
        top = r.scripts[0] if r.scripts else None
        return MessageInsert(
            r.ts, r.conversation_id, r.message_id, r.agent, r.text, _dumps(r.attachments),
            _dumps({"scripts": r.scripts, "policies": r.policies}),
            top.get("id") if top else None, top.get("score") if top else None,
            top.get("category") if top else None,
            _dumps(r.risks), ",".join(sorted({str(x.get("type")) for x in r.risks})),
            r.latency_ms, r.index_version)

    def write_feedback(self, records: Sequence[FeedbackRecord]) -> None:
        """Store a batch, each row tied to its logged message (the newest with that id), and
        add it to the counters of that message's day, in one transaction."""
        if not records:
            return
        records = [self.prepare(r) for r in records]
        self._before_write()
        with self.cursor() as cur:
            found = self._newest_messages(cur, {r.message_id for r in records})
            rows = [self._feedback_row(r, found.get(r.message_id)) for r in records]
            columns = FeedbackInsert._fields
            cur.executemany(self.sql(f"INSERT INTO {self.t('feedback')} ({', '.join(columns)}) "
                                     f"VALUES ({', '.join('?' * len(columns))})"), rows)
            offset = summaries.day_offset(self, cur)
            summaries.add(self, cur, summaries.feedback_counters((row.facts() for row in rows), offset))

    @staticmethod
    def _feedback_row(r: FeedbackRecord, message: tuple[int, float, Any] | None) -> FeedbackInsert:
        final = r.final_text
        pk, ts, suggestions = message or (None, r.ts, None)
        edit: tuple[int | None, int | None] = (None, None)
        if r.action == "edited" and final is not None and suggestions is not None:
            reply = summaries.shown_reply(suggestions, r.suggestion_id)
            if reply is not None:
                edit = summaries.measure_edit(reply, final)
        return FeedbackInsert(r.ts, r.message_id, r.suggestion_id, r.action, final, r.agent, pk, ts,
                              *edit)

    def _newest_messages(self, cur: Any, message_ids: set[str]) -> dict[str, tuple[int, float, Any]]:
        """{message id: (pk, ts, suggestions)} of the newest logged message with each id (ids
        may repeat across conversations; feedback answers the latest one)."""
        newest: dict[str, tuple[int, float, Any]] = {}
        ids = sorted(message_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            cur.execute(self.sql(f"SELECT message_id, id, ts, suggestions FROM {self.t('messages')} "
                                 f"WHERE message_id IN ({', '.join('?' * len(chunk))})"), chunk)
            for message_id, pk, ts, suggestions in cur.fetchall():
                if message_id not in newest or (ts, pk) > (newest[message_id][1], newest[message_id][0]):
                    newest[message_id] = (int(pk), float(ts), suggestions)
        return newest

    # ---- reads ---------------------------------------------------------------------------------
    def query_messages(self, query: MessageQuery) -> list[MessageRow]:
        """Newest first, filtered; pass the last row's (ts, id) as ``before`` for the next page."""
        return self.message_rows(*self.page_sql(query))

    def page_sql(self, query: MessageQuery) -> tuple[str, list[Any]]:
        """The SQL (``?`` placeholders) and parameters of one page: for EXPLAIN in tests too."""
        m = self.t("messages")
        where: list[str] = []
        params: list[Any] = []
        q = query
        # With a risk type the walk is driven by message_risks' (risk_type, ts, message_pk) key,
        # which holds each message's ts and id: a page reads what it returns, however rare the type.
        source, ts, pk = f"{m} m", "m.ts", "m.id"
        if q.risk_type:
            source = f"{self.t('message_risks')} r JOIN {m} m ON m.id = r.message_pk"
            ts, pk = "r.ts", "r.message_pk"
            where.append("r.risk_type = ?")
            params.append(q.risk_type)
        conversation_id = None if q.conversation_id is None else self.stored_id(q.conversation_id)
        for column, value in (("conversation_id", conversation_id), ("agent", q.agent)):
            if value is not None:
                where.append(f"m.{column} = ?")
                params.append(value)
        if q.since is not None:
            where.append(f"{ts} >= ?")
            params.append(q.since)
        if q.until is not None:
            where.append(f"{ts} < ?")
            params.append(q.until)
        if q.category and "/" in q.category:
            # A full category: equality, so the (top_category, ts) index also gives the order.
            where.append("m.top_category = ?")
            params.append(q.category)
        elif q.category:
            # A stage prefix matches a large share: walk the ts index and filter (the
            # ``|| ''`` keeps planners off the category index, whose order would need a sort).
            where.append("m.top_category || '' >= ? AND m.top_category || '' < ?")
            params += [q.category, q.category + "\U0010ffff"]
        if q.action == "none":
            where.append(f"NOT EXISTS (SELECT 1 FROM {self.t('feedback')} f "
                         "WHERE f.message_id = m.message_id)")
        elif q.action:
            # Correlated, so each page costs what it reads (an IN list would collect every match).
            where.append(f"EXISTS (SELECT 1 FROM {self.t('feedback')} f "
                         "WHERE f.message_id = m.message_id AND f.action = ?)")
            params.append(q.action)
        if q.no_suggestion:
            where.append("m.top_id IS NULL")
        if q.max_score is not None:
            where.append("(m.top_score IS NULL OR m.top_score < ?)")
            params.append(q.max_score)
        if q.before is not None:
            # ``ts <= ?`` first: a range both planners can seek to on the (ts, id) index.
            where.append(f"{ts} <= ? AND ({ts} < ? OR {pk} < ?)")
            params += [q.before[0], q.before[0], q.before[1]]
        sql = (f"SELECT {prefixed('m.', MESSAGE_COLUMNS)} FROM {source}"
               + (" WHERE " + " AND ".join(where) if where else "")
               + f" ORDER BY {ts} DESC, {pk} DESC LIMIT ?")
        return sql, [*params, q.limit]

    def conversation(self, conversation_id: str, limit: int = 500) -> list[MessageRow]:
        """A conversation's messages in order, with their feedback."""
        sql = (f"SELECT {prefixed('m.', MESSAGE_COLUMNS)} FROM {self.t('messages')} m "
               "WHERE m.conversation_id = ? ORDER BY m.ts, m.id LIMIT ?")
        return self.message_rows(sql, [self.stored_id(conversation_id), limit])

    def feedback_for(self, message_ids: Sequence[str]) -> list[FeedbackRow]:
        if not message_ids:
            return []
        marks = ", ".join("?" * len(message_ids))
        with self.cursor() as cur:
            cur.execute(self.sql(f"SELECT ts, message_id, suggestion_id, action, final_text, agent "
                                 f"FROM {self.t('feedback')} WHERE message_id IN ({marks}) "
                                 "ORDER BY ts, id"), list(message_ids))
            return [FeedbackRow(ts=r[0], message_id=r[1], suggestion_id=r[2], action=r[3],
                                final_text=r[4], agent=r[5]) for r in cur.fetchall()]

    def count_messages(self) -> int:
        with self.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {self.t('messages')}")
            return int(cur.fetchone()[0])

    def message_rows(self, sql: str, params: list[Any]) -> list[MessageRow]:
        with self.cursor() as cur:
            cur.execute(self.sql(sql), params)
            raw = cur.fetchall()
        rows = [MessageRow(id=r[0], ts=r[1], conversation_id=r[2], message_id=r[3], agent=r[4],
                           text=r[5], attachments=_loads(r[6]), suggestions=_loads(r[7]),
                           top_id=r[8], top_score=r[9], top_category=r[10], risks=_loads(r[11]),
                           risk_types=[x for x in r[12].split(",") if x], latency_ms=r[13],
                           index_version=r[14]) for r in raw]
        by_message: dict[str, list[FeedbackRow]] = {}
        for fb in self.feedback_for(sorted({row.message_id for row in rows})):
            by_message.setdefault(fb.message_id, []).append(fb)
        for row in rows:
            row.feedback = by_message.get(row.message_id, [])
        return rows


def prefixed(prefix: str, columns: str) -> str:
    return ", ".join(prefix + c.strip() for c in columns.split(","))


_INVALID = re.compile("[\ud800-\udfff\x00]")


def clean(value: Any) -> Any:
    """``value`` with every string made storable (lone surrogates as U+FFFD, NULs dropped: SQLite
    cannot encode the first, PostgreSQL refuses the second) and non-finite floats as None."""
    if isinstance(value, str):
        return _INVALID.sub(lambda m: "" if m.group(0) == "\x00" else "\ufffd", value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {clean(str(k)): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def _finite(value: float) -> float:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else 0.0


def _finite_ts(value: float) -> float:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else time.time()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value
