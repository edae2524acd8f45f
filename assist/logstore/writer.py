"""A background thread that batches log writes, so storing never blocks the reply path.

The event loop only appends to a queue. The thread takes whatever has accumulated (up to
``batch`` records), masks and writes it in one transaction, and retries a failing store with
backoff. ``close()`` drains everything queued before it returns: a clean shutdown loses nothing
that was acknowledged.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from assist.logstore.base import FeedbackRecord, LogStore, MessageRecord

log = logging.getLogger(__name__)
_STOP = object()


class LogWriter:
    def __init__(self, store: LogStore, batch: int = 500, retries: int = 5) -> None:
        self.store = store
        self.batch = batch
        self.retries = retries
        self.written = 0
        self.dropped = 0
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._unfinished = 0  # queued but not yet written (or dropped)
        self._done = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()

    def put(self, record: MessageRecord | FeedbackRecord,
            on_written: Callable[[bool], None] | None = None) -> None:
        """Queue one record; never blocks (the lock is only held for an increment).

        ``on_written(stored)`` is called from the writer thread once the record's transaction
        committed (True) or the record was dropped after its retries (False)."""
        with self._done:
            self._unfinished += 1
        self._queue.put(record if on_written is None else _Notify(record, on_written))

    @property
    def pending(self) -> int:
        return self._unfinished

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is written (tests, shutdown)."""
        with self._done:
            return self._done.wait_for(lambda: self._unfinished == 0, timeout)

    def close(self) -> None:
        """Drain the queue, stop the thread and close the store."""
        self._queue.put(_STOP)
        self._thread.join()
        self.store.close()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            items = [first]
            while len(items) < self.batch:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(item is _STOP for item in items)
            self._write([i for i in items if i is not _STOP])
            if stop:
                rest = []
                while not self._queue.empty():
                    rest.append(self._queue.get_nowait())
                self._write([i for i in rest if i is not _STOP])
                return

    def _write(self, queued: list[object]) -> None:
        notify = [i for i in queued if isinstance(i, _Notify)]
        items = [i.record if isinstance(i, _Notify) else i for i in queued]
        # Messages first: feedback refers to them. Each kind is its own transaction, retried alone.
        messages = [i for i in items if isinstance(i, MessageRecord)]
        feedback = [i for i in items if isinstance(i, FeedbackRecord)]
        stored = {MessageRecord: True, FeedbackRecord: True}
        for kind, write, batch in ((MessageRecord, self.store.write_messages, messages),
                                   (FeedbackRecord, self.store.write_feedback, feedback)):
            if batch:
                stored[kind] = self._attempt(write, batch)
        with self._done:
            self._unfinished -= len(items)
            self._done.notify_all()
        for item in notify:
            try:
                item.on_written(stored[type(item.record)])
            except Exception:  # a caller's callback must not stop the writer
                log.exception("log write callback failed")

    def _attempt(self, write: Callable[[list], None], batch: list) -> bool:
        for attempt in range(self.retries):
            try:
                write(batch)
                self.written += len(batch)
                return True
            except Exception:
                log.exception("log store write failed (attempt %d of %d)", attempt + 1, self.retries)
                time.sleep(min(2.0, 0.1 * 2 ** attempt))
        self.dropped += len(batch)
        log.error("dropped %d log records after %d failed attempts", len(batch), self.retries)
        return False


class _Notify:
    """A queued record whose caller wants to know when it is stored."""

    __slots__ = ("record", "on_written")

    def __init__(self, record: MessageRecord | FeedbackRecord,
                 on_written: Callable[[bool], None]) -> None:
        self.record = record
        self.on_written = on_written
