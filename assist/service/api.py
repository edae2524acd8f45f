"""HTTP API: suggest (and HTTP ingest), feedback, health, index info, admin re-index, stats."""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from assist.service.batcher import Busy
from assist.service.deps import Admin, Agent, Reader, services_of
from assist.service.ingest import (
    NotStored,
    Refused,
    check_feedback,
    check_message,
    record_feedback,
    suggest_message,
)
from assist.service.protocol import (
    Ack,
    FeedbackRequest,
    IndexInfo,
    ReindexResponse,
    SuggestRequest,
    SuggestResponse,
)

router = APIRouter()
_REFUSED_STATUS = {"too_large": 413, "too_many_attachments": 422}


def refused(exc: Refused) -> JSONResponse:
    return JSONResponse({"detail": exc.message, "code": exc.code},
                        status_code=_REFUSED_STATUS.get(exc.code, 400))


def not_stored(exc: NotStored) -> JSONResponse:
    """With ack_after_write: the log refused the record, so the request is not acknowledged."""
    return JSONResponse({"detail": f"{exc}; send it again", "code": "internal"}, status_code=503,
                        headers={"Retry-After": "1"})


@router.post("/api/suggest", response_model=SuggestResponse)
async def suggest(body: SuggestRequest, request: Request,
                  principal: Agent) -> Any:
    """Suggestions for one message; with conversation_id and message_id it is also ingested."""
    started = time.perf_counter()
    services = services_of(request)
    try:
        check_message(services, body.text, body.attachments)
    except Refused as exc:
        return refused(exc)
    ingest = body.conversation_id if body.message_id else None
    try:
        frame, logged = await suggest_message(services, principal, body.text, body.attachments,
                                              ingest, body.message_id if ingest else None, started)
    except Busy as exc:
        return JSONResponse({"detail": str(exc), "code": "busy"}, status_code=429,
                            headers={"Retry-After": "1"})
    except NotStored as exc:
        return not_stored(exc)
    return SuggestResponse(scripts=frame.scripts, policies=frame.policies, risks=frame.risks,
                           index_version=frame.index_version, latency_ms=frame.latency_ms,
                           logged=logged)


@router.post("/api/feedback", response_model=Ack)
async def feedback(body: FeedbackRequest, request: Request,
                   principal: Agent) -> Any:
    services = services_of(request)
    try:
        check_feedback(services, body)
        logged = await record_feedback(services, principal, body)
    except Refused as exc:
        return refused(exc)
    except NotStored as exc:
        return not_stored(exc)
    return Ack(message_id=body.message_id, logged=logged)


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, Any]:
    return services_of(request).health()


@router.get("/api/index", response_model=IndexInfo)
async def index_info(request: Request,
                     _: Reader) -> IndexInfo:
    manifest = services_of(request).engine.index.manifest
    return IndexInfo(version=manifest.version, entries=manifest.entries, built_at=manifest.built_at,
                     embedder=manifest.embedder, vectors=manifest.vectors)


@router.post("/api/admin/reindex", response_model=ReindexResponse,
             responses={422: {"model": ReindexResponse, "description": "knowledge folder has errors"}})
async def reindex(request: Request, _: Admin) -> Any:
    """Rebuild from the knowledge folder and hot-swap; on errors the old index keeps serving."""
    result = await services_of(request).reindexer.reindex()
    return result if result.ok else JSONResponse(result.model_dump(), status_code=422)


@router.get("/api/admin/stats")
async def stats(request: Request, _: Admin) -> dict[str, Any]:
    """Counters for operators and the load benchmark."""
    s = services_of(request)
    return {"pid": os.getpid(), "connections": len(s.hub.connections), "batches": s.batcher.batches,
            "messages": s.batcher.messages, "queued": s.batcher.queued,
            "result_cache_hits": s.batcher.results.hits,
            "cache_hits": s.embedder.hits,
            "cache_misses": s.embedder.misses, "log_written": s.writer.written,
            "log_pending": s.writer.pending, "log_dropped": s.writer.dropped,
            "log_rejected": s.writer.rejected, "log_unlogged": s.writer.unlogged,
            "uptime_s": round(time.time() - s.started_at, 1),
            **({"cluster": s.cluster.health()} if s.cluster is not None else {})}
