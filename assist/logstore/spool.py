"""An append-only spool file for log records the store cannot take right now.

The writer appends each batch it could not store as JSON lines, flushed and fsynced before the
batch counts as kept, and replays the file into the store once it works again. Files are created
0600 (they hold masked customer text). Where the spool lives:

1. ``log_spool_dir`` when set, else ``<data>/spool``;
2. if that directory cannot be written (the disk the data lives on is full, the data directory
   was deleted or made read-only), ``<system temp dir>/shop-assist-spool-<uid>``.

Each store has its own file name (a hash of its URL and table prefix), so a spool left by a
crash or a shutdown during an outage is replayed into the right store on the next start.
Progress through a replay is kept in a ``.done`` side file (a byte offset), so a replay cut short
resumes where it stopped: a record is stored at most twice only if the process dies between a
chunk's commit and the side file's update.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from assist.logstore.base import FeedbackRecord, MessageRecord

log = logging.getLogger(__name__)
Record = MessageRecord | FeedbackRecord


class SpoolFull(Exception):
    """No spool directory can take more (over ``max_bytes`` or not writable)."""


def encode(record: Record) -> str:
    kind = "m" if isinstance(record, MessageRecord) else "f"
    return json.dumps({"k": kind, "r": asdict(record)}, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)


def decode(line: str) -> Record:
    item = json.loads(line)
    return MessageRecord(**item["r"]) if item["k"] == "m" else FeedbackRecord(**item["r"])


def default_dirs(configured: Path | None, data: Path) -> list[Path]:
    """Where to spool, in order of preference."""
    first = Path(configured) if configured else Path(data) / "spool"
    fallback = Path(tempfile.gettempdir()) / f"shop-assist-spool-{os.getuid()}"
    return [first] if first == fallback else [first, fallback]


class Spool:
    def __init__(self, dirs: list[Path], store_key: str, max_bytes: int) -> None:
        self.dirs = [Path(d) for d in dirs]
        self.name = "log-" + hashlib.sha256(store_key.encode()).hexdigest()[:16] + ".jsonl"
        self.max_bytes = max_bytes
        self.records = sum(self._count(path) for path in self.files())

    # ---- files -------------------------------------------------------------------------------
    def files(self) -> list[Path]:
        """This store's spool files that exist, oldest directory first."""
        found = []
        for d in self.dirs:
            try:
                if (d / self.name).is_file():
                    found.append(d / self.name)
            except OSError:
                continue
        return found

    @property
    def size_bytes(self) -> int:
        total = 0
        for path in self.files():
            try:
                total += path.stat().st_size - _done(path)
            except OSError:
                continue
        return total

    @property
    def full(self) -> bool:
        return self.size_bytes >= self.max_bytes

    def _count(self, path: Path) -> int:
        try:
            with path.open("rb") as f:
                f.seek(_done(path))
                return sum(1 for line in f if line.endswith(b"\n"))
        except OSError:
            return 0

    # ---- append ------------------------------------------------------------------------------
    def append(self, records: list[Record]) -> Path:
        """Append ``records`` durably (fsync) to the first directory that takes them."""
        if not records:
            raise ValueError("nothing to spool")
        data = "".join(encode(r) + "\n" for r in records).encode("utf-8")
        if self.size_bytes + len(data) > self.max_bytes:
            raise SpoolFull(f"spool over its limit of {self.max_bytes} bytes")
        errors = []
        for d in self.dirs:
            try:
                path = self._append_to(d, data)
            except OSError as exc:
                errors.append(f"{d}: {exc.strerror or exc}")
                continue
            self.records += len(records)
            return path
        raise SpoolFull("no spool directory is writable (" + "; ".join(errors) + ")")

    def _append_to(self, directory: Path, data: bytes) -> Path:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = directory / self.name
        new = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            start = os.fstat(fd).st_size
            try:
                os.write(fd, data)
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, start)  # no half batch left behind (best effort)
                raise
        finally:
            os.close(fd)
        if new:
            _fsync_dir(directory)
        return path

    # ---- replay ------------------------------------------------------------------------------
    def batches(self, size: int) -> Iterator[tuple[Path, int, list[Record]]]:
        """(file, end offset, records) chunks from where the last replay stopped, each of one
        kind (one transaction: a chunk is stored whole or not at all). A torn last line (a crash
        mid-append: never fsynced, so never counted as kept) is skipped."""
        for path in self.files():
            with path.open("rb") as f:
                offset = _done(path)
                f.seek(offset)
                chunk: list[Record] = []
                for line in f:
                    if not line.endswith(b"\n"):
                        break
                    try:
                        record = decode(line.decode("utf-8"))
                    except (ValueError, TypeError, KeyError) as exc:
                        log.error("skipped an unreadable spool line in %s: %s", path, exc)
                        offset += len(line)
                        continue
                    if chunk and (len(chunk) >= size or type(chunk[0]) is not type(record)):
                        yield path, offset, chunk
                        chunk = []
                    chunk.append(record)
                    offset += len(line)
                if chunk:
                    yield path, offset, chunk

    def mark_done(self, path: Path, offset: int, count: int) -> None:
        """Records up to ``offset`` of ``path`` are stored: skip them from now on."""
        self.records = max(0, self.records - count)
        _write_done(path, offset)

    def finish(self, path: Path) -> None:
        """Everything in ``path`` is stored: remove it."""
        for p in (path, _done_path(path)):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


def _done_path(path: Path) -> Path:
    return path.with_name(path.name + ".done")


def _done(path: Path) -> int:
    try:
        return int(_done_path(path).read_text() or 0)
    except (OSError, ValueError):
        return 0


def _write_done(path: Path, offset: int) -> None:
    side = _done_path(path)
    tmp = side.with_name(side.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, str(offset).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, side)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
