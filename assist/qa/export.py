"""Logs and labels as CSV or JSON lines, newest first, paged by keyset (constant memory).

Only what the log holds is written, and the log holds masked text only.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal, TextIO

from assist.logstore import review
from assist.logstore.base import LogStore, MessageQuery

Format = Literal["csv", "jsonl"]
CSV_COLUMNS = ("id", "time", "conversation_id", "message_id", "agent", "text", "top_id", "top_score",
               "top_category", "suggestion_ids", "risk_types", "latency_ms", "index_version",
               "action", "suggestion_id", "final_text", "label", "label_entry_id", "label_note",
               "label_author")


def export_records(store: LogStore, query: MessageQuery, page: int = 1000) -> Iterator[dict[str, Any]]:
    """Every matching message with its feedback and labels."""
    query = query.model_copy(update={"limit": page})
    while True:
        rows = store.query_messages(query)
        labels = review.labels_for(store, [r.id for r in rows])
        for row in rows:
            yield {**row.model_dump(), "labels": [label.model_dump() for label in labels.get(row.id, [])]}
        if len(rows) < page:
            return
        query = query.model_copy(update={"before": (rows[-1].ts, rows[-1].id)})


def write_export(records: Iterator[dict[str, Any]], fmt: Format, out: TextIO) -> int:
    """Write ``records``; returns how many."""
    count = 0
    if fmt == "jsonl":
        for count, record in enumerate(records, 1):  # noqa: B007 - count is the result
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return count
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for count, record in enumerate(records, 1):  # noqa: B007
        writer.writerow([_cell(value) for value in _flat(record)])
    return count


def _cell(value: Any) -> Any:
    """Customer text must not run as a spreadsheet formula when QA opens the CSV."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _flat(r: dict[str, Any]) -> list[Any]:
    feedback = r["feedback"][-1] if r["feedback"] else {}
    label = r["labels"][-1] if r["labels"] else {}
    scripts = r["suggestions"].get("scripts", [])
    return [r["id"], datetime.fromtimestamp(r["ts"]).astimezone().isoformat(timespec="seconds"),
            r["conversation_id"], r["message_id"], r["agent"], r["text"], r["top_id"] or "",
            "" if r["top_score"] is None else r["top_score"], r["top_category"] or "",
            " ".join(s.get("id", "") for s in scripts), " ".join(r["risk_types"]), r["latency_ms"],
            r["index_version"], feedback.get("action", "none"), feedback.get("suggestion_id", ""),
            feedback.get("final_text") or "", label.get("label", ""), label.get("entry_id") or "",
            label.get("note", ""), label.get("author", "")]
