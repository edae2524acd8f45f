"""A background thread that batches log writes, so storing never blocks the reply path, and
keeps every record it accepted when the store cannot write.

The event loop only appends to a queue (``put``). The thread takes whatever has accumulated (up
to ``batch`` records), sanitises and masks it (``store.prepare``) and writes it in one
transaction per kind. Then:

- a record the store refuses for its own sake (a value it cannot take) is isolated by bisecting
  the batch: the others are written, that one is counted in ``rejected`` and logged, never the
  batch;
- when the store cannot write at all (disk full, file or directory deleted, read-only, database
  down: ``store.is_storage_error``) the writer turns *degraded*: the batch, and everything after
  it, is appended to the spool (``assist.logstore.spool``, fsynced) or, if no spool directory can
  take it, held in memory; the store is retried with backoff (0.25 s doubling to
  ``retry_max_s``), and once a retry works the spool is replayed in order and the writer is *ok*
  again;
- once the spool is full (or unwritable) and ``max_held`` records wait in memory, ``put`` returns
  False: the message is still answered, its ack says it was not logged (``unlogged``);
- a store that works but falls behind (a slow database) is bounded too: with ``max_queued``
  records waiting, ``put`` returns False until the writer catches up, and health says so.
  Memory stays bounded (~3 KB a record) instead of growing until the process is killed, which
  would lose everything queued.

``close()`` drains the queue (into the store, or the spool during an outage) before it returns;
a spool left behind is replayed by the next writer on the same store. A ``kill -9`` loses only
what was still queued in memory (accepted but neither stored nor spooled).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from assist.logstore.base import FeedbackRecord, LogStore, MessageRecord
from assist.logstore.spool import Spool, SpoolFull

log = logging.getLogger(__name__)
_STOP = object()
Record = MessageRecord | FeedbackRecord


class LogWriter:
    def __init__(self, store: LogStore, batch: int = 500, *, spool: Spool | None = None,
                 max_held: int = 10_000, max_queued: int = 50_000,
                 retry_max_s: float = 5.0) -> None:
        self.store = store
        self.batch = batch
        self.spool = spool
        self.max_held = max_held
        self.max_queued = max_queued
        self.retry_max_s = retry_max_s
        self.written = 0
        self.rejected = 0  # records the store refused on their own (bad values), after sanitising
        self.unlogged = 0  # records refused by ``put`` because nothing could keep them
        self.reason: str | None = None  # why the writer is degraded; None when ok
        self.degraded_since: float | None = None
        self._held: list[Record] = []  # neither stored nor spooled (no spool directory worked)
        self._spool_blocked = False
        self._retry_at = 0.0
        self._retry_delay = 0.25
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._unfinished = 0  # queued but not yet stored, spooled, held or rejected
        self._done = threading.Condition()
        self._rejected_now: set[int] = set()  # ids of the records rejected in the current batch
        if spool is not None and spool.records:
            # A spool left by an outage that outlived the last run: replay it first.
            self._degrade(f"{spool.records} records spooled by an earlier run")
            self._retry_at = 0.0
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()

    # ---- the event loop's side ---------------------------------------------------------------
    def put(self, record: MessageRecord | FeedbackRecord,
            on_written: Callable[[bool], None] | None = None) -> bool:
        """Queue one record; never blocks. False: nothing can keep it (the spool is full during
        an outage), so it is not logged.

        ``on_written(kept)`` is called from the writer thread once the record is stored or
        spooled (True), or was rejected or could only be held in memory (False)."""
        with self._done:
            if self._behind or self._full:
                self.unlogged += 1
                return False
            self._unfinished += 1
        self._queue.put(record if on_written is None else _Notify(record, on_written))
        return True

    @property
    def pending(self) -> int:
        return self._unfinished

    @property
    def dropped(self) -> int:
        """Records that were not logged, for whatever reason (rejected or refused)."""
        return self.rejected + self.unlogged

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def _full(self) -> bool:
        """Nothing can keep more: the spool refuses and ``max_held`` records wait in memory."""
        return self._spool_blocked and self._unfinished + len(self._held) >= self.max_held

    @property
    def _behind(self) -> bool:
        """A working store this far behind: ``max_queued`` records wait for it."""
        return self._unfinished >= self.max_queued

    def health(self) -> dict[str, Any]:
        """For /healthz: state, the reason when degraded, and where the records are."""
        spooled = self.spool.records if self.spool is not None else 0
        reason = self.reason or (f"the log store is {self._unfinished} records behind; new "
                                 "messages are answered but not logged" if self._behind else None)
        return {"state": "ok" if reason is None else "degraded", "reason": reason,
                "degraded_since": self.degraded_since, "pending": self._unfinished,
                "spooled": spooled, "held_in_memory": len(self._held),
                "accepting": not self._full and not self._behind,
                "written": self.written, "rejected": self.rejected, "unlogged": self.unlogged}

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is stored or kept (tests, shutdown)."""
        with self._done:
            return self._done.wait_for(lambda: self._unfinished == 0, timeout)

    def close(self) -> None:
        """Drain the queue, stop the thread and close the store."""
        self._queue.put(_STOP)
        self._thread.join()
        if self._held:
            log.error("%d accepted log records could be neither stored nor spooled and are lost "
                      "at shutdown: %s", len(self._held), self.reason)
        self.store.close()

    # ---- the thread --------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            items = self._take()
            stop = any(item is _STOP for item in items)
            records = [i for i in items if i is not _STOP]
            if stop:
                while not self._queue.empty():
                    records += [i for i in [self._queue.get_nowait()] if i is not _STOP]
            if not self.ok and (stop or time.monotonic() >= self._retry_at):
                self._recover()
            self._handle(records)
            if stop:
                return

    def _take(self) -> list[object]:
        timeout = None if self.ok else max(0.01, self._retry_at - time.monotonic())
        try:
            items = [self._queue.get(timeout=timeout)]
        except queue.Empty:
            return []
        while len(items) < self.batch:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _handle(self, raw: list[Any]) -> None:
        records: list[Record] = []
        callbacks: list[Callable[[bool], None] | None] = []
        self._rejected_now = set()
        for item in raw:
            record, notify = (item.record, item.on_written) if isinstance(item, _Notify) else (item, None)
            try:
                records.append(self.store.prepare(record))
                callbacks.append(notify)
            except Exception:  # a record that cannot even be masked: its own problem only
                self._reject(record, "could not be prepared")
                _notify(notify, False)
        if records:
            if self.ok:
                self._keep(self._store(records))
            else:
                self._keep(records)
        held = {id(r) for r in self._held}
        with self._done:
            self._unfinished -= len(raw)
            self._done.notify_all()
        for record, notify in zip(records, callbacks, strict=True):
            _notify(notify, id(record) not in self._rejected_now and id(record) not in held)

    def _store(self, records: list[Record]) -> list[Record]:
        """Write ``records`` (messages first: feedback refers to them); returns what could not
        be written because the store is down (the writer is then degraded)."""
        messages: list[Record] = [r for r in records if isinstance(r, MessageRecord)]
        feedback: list[Record] = [r for r in records if isinstance(r, FeedbackRecord)]
        if messages and not self._write_isolating(self.store.write_messages, messages):
            return messages + feedback
        if feedback and not self._write_isolating(self.store.write_feedback, feedback):
            return feedback
        return []

    def _write_isolating(self, write: Callable[[list[Any]], None], batch: list[Any]) -> bool:
        """Write ``batch``; a value error is narrowed down by halves to the records causing it,
        which are rejected alone. False when the store is down (nothing more was written)."""
        try:
            write(batch)
        except Exception as exc:
            if self.store.is_storage_error(exc):
                self._degrade(_describe(exc))
                return False
            if len(batch) == 1:
                self._reject(batch[0], _describe(exc))
                return True
            middle = len(batch) // 2
            if not self._write_isolating(write, batch[:middle]):
                return False  # the store went down half way: the first half is partly in it
            return self._write_isolating(write, batch[middle:])
        self.written += len(batch)
        return True

    def _keep(self, records: list[Record]) -> None:
        """Spool what the store could not take now (the held records first, to keep order)."""
        if not records:
            return
        pending = self._held + records
        if self.spool is not None:
            try:
                self.spool.append(pending)
            except SpoolFull as exc:
                if not self._spool_blocked:
                    log.error("log spool cannot take more: %s; keeping up to %d records in memory",
                              exc, self.max_held)
                self._spool_blocked = True
            else:
                self._held = []
                self._spool_blocked = False
                return
        else:
            self._spool_blocked = True
        self._held = pending

    def _recover(self) -> None:
        """Try the store again; on success replay the spool and the held records, in order."""
        try:
            self.store.reconnect()
            if self.spool is not None:
                done = set()
                for path, offset, chunk in self.spool.batches(self.batch):
                    if self._store(chunk):
                        raise _StillDown
                    self.spool.mark_done(path, offset, len(chunk))
                    done.add(path)
                for path in done:
                    self.spool.finish(path)
            if self._held:
                held, self._held = self._held, []
                self._held = self._store(held)
                if self._held:
                    raise _StillDown
        except _StillDown:
            pass
        except Exception as exc:
            if not self.store.is_storage_error(exc):
                log.exception("unexpected error while reconnecting the log store")
            self._degrade(_describe(exc))
        else:
            log.warning("log store writable again after %.1f s; spool replayed, %d records written "
                        "so far", time.time() - (self.degraded_since or time.time()), self.written)
            self.reason = self.degraded_since = None
            self._spool_blocked = False
            self._retry_delay = 0.25
            return
        self._retry_at = time.monotonic() + self._retry_delay
        self._retry_delay = min(self.retry_max_s, self._retry_delay * 2)

    def _degrade(self, reason: str) -> None:
        if self.ok:
            log.error("log store cannot write (%s): spooling until it can", reason)
            self.degraded_since = time.time()
            self._retry_at = time.monotonic() + self._retry_delay
        self.reason = reason

    def _reject(self, record: Any, why: str) -> None:
        self.rejected += 1
        self._rejected_now.add(id(record))
        log.error("log record for message %r rejected on its own: %s",
                  str(getattr(record, "message_id", "?"))[:64], why)


class _StillDown(Exception):
    pass


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300]


class _Notify:
    """A queued record whose caller wants to know when it is kept (stored or spooled)."""

    __slots__ = ("record", "on_written")

    def __init__(self, record: MessageRecord | FeedbackRecord,
                 on_written: Callable[[bool], None]) -> None:
        self.record = record
        self.on_written = on_written


def _notify(callback: Callable[[bool], None] | None, kept: bool) -> None:
    if callback is None:
        return
    try:
        callback(kept)
    except Exception:  # a caller's callback must not stop the writer
        log.exception("log write callback failed")
