"""The QA review page (``/qa``) and its JSON API (``/api/qa/*``), for the qa and admin roles.

The page is static (it holds no data); every data call carries the bearer token. Store calls
block, so they run in a thread. Listing pages by keyset: ``next`` is the cursor of the last
row, passed back as ``before``.
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from assist.core import vocabulary
from assist.core.knowledge import KnowledgeError
from assist.core.models import RISK_TYPES, RiskType
from assist.core.vocabulary import CONFIDENT_SCORE, FeedbackAction
from assist.logstore import MessageQuery, MessageRow, review
from assist.qa.metrics import Metrics, compute_metrics
from assist.qa.promote import PromoteError, promote_question
from assist.qa.timespec import parse_time
from assist.service.auth import Principal
from assist.service.deps import Admin, require_role, services_of
from assist.service.protocol import ReindexResponse

if TYPE_CHECKING:
    from assist.service.services import Services

router = APIRouter()
QaUser = Annotated[Principal, Depends(require_role("qa", "admin"))]
STATIC = Path(__file__).parent / "static_qa"
_ASSETS = {"qa.js": "text/javascript", "qa.css": "text/css",
           "chart.umd.min.js": "text/javascript"}
DEFAULT_THRESHOLD = CONFIDENT_SCORE
MAX_PK = 2**63 - 1  # row ids are signed 64-bit in SQLite and PostgreSQL


class QaMessage(MessageRow):
    labels: list[review.LabelRow] = Field(default_factory=list)


class MessagePage(BaseModel):
    items: list[QaMessage]
    next: str | None = Field(None, description="cursor for the next page (pass as 'before')")


class Filters(BaseModel):
    """Query parameters of ``GET /api/qa/messages``."""

    since: str | None = Field(None, description="7d, 24h, ISO date/time or epoch seconds")
    until: str | None = None
    agent: str | None = None
    conversation_id: str | None = None
    category: str | None = Field(None, description="category or its stage prefix, e.g. 售后")
    risk_type: RiskType | None = None
    action: FeedbackAction | Literal["none"] | None = None
    no_suggestion: bool = False
    max_score: float | None = Field(None, ge=0, le=1, description="low confidence: top score below")
    before: str | None = Field(None, description="cursor from the previous page")
    limit: int = Field(50, ge=1, le=200)


class LabelRequest(BaseModel):
    message_pk: int = Field(ge=0, le=MAX_PK)
    label: review.LabelKind
    entry_id: str | None = Field(None, max_length=128)
    note: str = Field("", max_length=2000)


class PromoteRequest(BaseModel):
    message_pk: int = Field(ge=0, le=MAX_PK)
    entry_id: str = Field(min_length=1, max_length=128)
    reindex: bool = Field(True, description="rebuild and hot-swap the index right after")


class PromoteResponse(BaseModel):
    entry_id: str
    file: str
    question: str
    added: bool
    reindex: ReindexResponse | None = None


def _time(value: str | None, what: str) -> float | None:
    try:
        return None if value is None or not value.strip() else parse_time(value)
    except ValueError as exc:
        raise HTTPException(422, f"{what}: {exc}") from None


def _cursor(value: str | None) -> tuple[float, int] | None:
    if not value:
        return None
    try:
        ts, pk = value.rsplit(":", 1)
        cursor = float(ts), int(pk)
        if not math.isfinite(cursor[0]) or not 0 <= cursor[1] <= MAX_PK:
            raise ValueError("out of range")
        return cursor
    except ValueError:
        raise HTTPException(422, "before: expected the 'next' cursor of a previous page, "
                                 f"got {value!r}") from None


async def _with_labels(services: Services, rows: list[MessageRow]) -> list[QaMessage]:
    labels = await asyncio.to_thread(review.labels_for, services.store, [r.id for r in rows])
    return [QaMessage(**r.model_dump(), labels=labels.get(r.id, [])) for r in rows]


# ---- the page ----------------------------------------------------------------------------------

@router.get("/qa", include_in_schema=False)
async def qa_page() -> FileResponse:
    return FileResponse(STATIC / "qa.html", media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                                            "style-src 'self'; frame-ancestors 'none'",
                                 "Referrer-Policy": "no-referrer"})


@router.get("/qa/assets/{name}", include_in_schema=False)
async def qa_asset(name: str) -> FileResponse:
    if name not in _ASSETS:  # a fixed list: no paths from the URL reach the file system
        raise HTTPException(404, "no such asset")
    return FileResponse(STATIC / name, media_type=_ASSETS[name])


# ---- data --------------------------------------------------------------------------------------

@router.get("/api/qa/meta")
async def meta(request: Request, principal: QaUser) -> dict[str, Any]:
    """What the page needs for its filters: entries of the live index, categories, risk types."""
    services = services_of(request)
    entries = services.engine.index.entries
    return {"index_version": services.engine.version, "role": principal.role,
            "threshold": DEFAULT_THRESHOLD, "risk_types": list(RISK_TYPES), "labels": list(review.LABELS),
            "vocabulary": vocabulary.as_dict(),
            "categories": sorted({e.category for e in entries}),
            "entries": [{"id": e.id, "kind": e.kind, "title": e.display_title, "category": e.category}
                        for e in entries]}


@router.get("/api/qa/messages", response_model=MessagePage)
async def messages(request: Request, _: QaUser, filters: Annotated[Filters, Query()]) -> MessagePage:
    """Logged messages, newest first, filtered; keyset-paged."""
    services = services_of(request)
    query = MessageQuery(since=_time(filters.since, "since"), until=_time(filters.until, "until"),
                         agent=filters.agent or None, conversation_id=filters.conversation_id or None,
                         category=filters.category or None, risk_type=filters.risk_type,
                         action=filters.action, no_suggestion=filters.no_suggestion,
                         max_score=filters.max_score, before=_cursor(filters.before),
                         limit=filters.limit)
    rows = await asyncio.to_thread(services.store.query_messages, query)
    following = f"{rows[-1].ts!r}:{rows[-1].id}" if len(rows) == filters.limit else None
    return MessagePage(items=await _with_labels(services, rows), next=following)


# ``:path``: conversation ids from chat platforms may contain "/" (sent as %2F).
@router.get("/api/qa/conversations/{conversation_id:path}", response_model=list[QaMessage])
async def conversation(request: Request, _: QaUser, conversation_id: str) -> list[QaMessage]:
    """One conversation's messages in order, with feedback and labels."""
    services = services_of(request)
    rows = await asyncio.to_thread(services.store.conversation, conversation_id)
    return await _with_labels(services, rows)


@router.get("/api/qa/metrics", response_model=Metrics)
async def metrics(request: Request, _: QaUser, since: str = "7d", until: str | None = None,
                  threshold: Annotated[float, Query(ge=0, le=1)] = DEFAULT_THRESHOLD,
                  tz_offset_min: Annotated[int | None, Query(ge=-14 * 60, le=14 * 60)] = None) -> Metrics:
    """Acceptance, coverage, entry use and edits, risk flags and latency per local day, over the
    whole days the range touches. Without ``tz_offset_min`` days are the log's own (UTC+8 by
    default), which the daily counters answer; another offset is answered from the raw rows."""
    services = services_of(request)
    start = _time(since, "since") or 0.0
    end = _time(until, "until") or time.time() + 1
    offset = None if tz_offset_min is None else tz_offset_min * 60
    return await asyncio.to_thread(compute_metrics, services.store, start, end,
                                   services.engine.index.entries, threshold, offset)


@router.post("/api/qa/labels", response_model=review.LabelRow)
async def add_label(request: Request, principal: QaUser, body: LabelRequest) -> review.LabelRow:
    """Mark a logged message right / wrong_entry / missing_entry, with a note."""
    services = services_of(request)
    row = await asyncio.to_thread(review.add_label, services.store, time.time(), body.message_pk,
                                  body.label, body.entry_id, body.note, principal.agent)
    if row is None:
        raise HTTPException(404, f"no logged message {body.message_pk}")
    return row


@router.post("/api/qa/promote", response_model=PromoteResponse,
             responses={422: {"description": "the phrasing cannot be promoted (says why)"}})
async def promote(request: Request, _: Admin, body: PromoteRequest) -> PromoteResponse:
    """Add the message's (masked) text to the entry's example questions, then re-index.

    Admin only: it rewrites the knowledge folder and changes what every agent is suggested;
    the qa role reads and labels."""
    services = services_of(request)
    row = await asyncio.to_thread(review.message_by_pk, services.store, body.message_pk)
    if row is None:
        raise HTTPException(404, f"no logged message {body.message_pk}")
    try:
        done = await asyncio.to_thread(promote_question, services.settings.knowledge, body.entry_id,
                                       row.text)
    except (PromoteError, KnowledgeError) as exc:
        raise HTTPException(422, str(exc)) from None
    result = PromoteResponse(entry_id=done.entry_id, file=done.file, question=done.question,
                             added=done.added)
    if body.reindex and done.added:
        result.reindex = await services.reindexer.reindex()
    return result
