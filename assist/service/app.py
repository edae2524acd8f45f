"""``create_app``: the FastAPI app, with one lifespan owning the engine, batcher, hub and log writer.

State lives in a ``Services`` object yielded by the lifespan (no module globals); handlers get it
from ``request.state.services``. Hot re-index replaces ``services.engine``, one reference.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from assist.core.engine import Engine, open_or_build
from assist.core.settings import Settings
from assist.logstore import LogWriter, open_log_store
from assist.logstore.spool import Spool, default_dirs
from assist.service import access_log, api, docs, qa_routes, static, ws
from assist.service.auth import TokenStore, build_tokens
from assist.service.batcher import Batcher, CachingEmbedder
from assist.service.bus import Bus
from assist.service.cluster import Cluster
from assist.service.hub import Hub
from assist.service.limits import Quotas
from assist.service.middleware import EdgeMiddleware
from assist.service.reindex import Reindexer
from assist.service.services import Services

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, engine: Engine | None = None,
               tokens: TokenStore | None = None, log_prefix: str = "") -> FastAPI:
    """The service app. ``engine``/``tokens`` may be given (tests, the CLI); else from settings."""
    settings = settings or Settings()
    access_log.install()
    if tokens is None:
        tokens, _ = build_tokens(settings.tokens, settings.dev, settings.data)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Services]]:
        base = engine if engine is not None else await asyncio.to_thread(open_or_build, settings)
        cached = CachingEmbedder(base.retriever.embedder, settings.cache_size)
        live = Engine(base.index, cached, base.risk_detector, base.retriever.config)
        store = await asyncio.to_thread(open_log_store, settings.log_store, settings.data, log_prefix)
        spool = Spool(default_dirs(settings.log_spool_dir, settings.data), f"{store.url}|{log_prefix}",
                      int(settings.log_spool_max_mb * 2**20))
        writer = LogWriter(store, spool=spool, max_held=settings.log_max_held,
                           max_queued=settings.log_max_queued)
        services: Services
        batcher = Batcher(lambda: services.engine, settings.batch_wait_ms, settings.batch_max,
                          settings.result_cache_size, tenant_queue=settings.token_queue,
                          tenant_share=settings.batch_max_per_token)
        services = Services(
            settings=settings, engine=live, embedder=cached, batcher=batcher,
            hub=Hub(settings.heartbeat_s), store=store, writer=writer, tokens=tokens,
            reindexer=Reindexer(settings.knowledge, settings.index, cached, base.retriever.embedder,
                                base.retriever.config, lambda e: services.swap_engine(e),
                                settings.risk),
            quotas=Quotas(settings))
        app.state.services = services  # for the server's shutdown (websockets close with 1001)
        batcher.start()
        services.hub.start()
        if settings.redis:
            services.cluster = Cluster(services, Bus(settings.redis, settings.redis_prefix),
                                       settings.index_poll_s)
            await services.cluster.start()
        log.info("serving index %s (%d entries); log store %s", live.version,
                 len(live.index.entries), store.url)
        try:
            yield {"services": services}
        finally:
            # Order matters: finish messages in flight, then their frames, then the log queue.
            if services.tasks:
                await asyncio.wait(set(services.tasks), timeout=10)
            await batcher.stop()
            if services.cluster is not None:  # after the last frames were queued for it
                await services.cluster.stop()
            await services.hub.stop()
            await asyncio.to_thread(services.writer.close)
            log.info("stopped; %d log records written, %d rejected, %d not logged, %d spooled",
                     writer.written, writer.rejected, writer.unlogged, writer.health()["spooled"])

    app = FastAPI(title="shop-assist", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Reply suggestions and scam warnings for e-commerce customer service. "
                              "The websocket protocol is documented in docs/protocol.md.")
    app.include_router(api.router)
    app.include_router(ws.router)
    app.include_router(qa_routes.router)
    static.mount(app, settings)
    docs.mount(app)
    app.add_middleware(EdgeMiddleware, settings=settings)
    return app
