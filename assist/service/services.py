"""``Services``: everything the handlers share, created and torn down by the app's lifespan.

Its own module so that the routers (api, ws, qa_routes, ingest) import the state they use
without importing the app that includes them.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assist.core.engine import Engine
from assist.core.settings import Settings
from assist.logstore import LogStore, LogWriter
from assist.service.auth import TokenStore
from assist.service.batcher import Batcher, CachingEmbedder
from assist.service.hub import Hub
from assist.service.limits import Quotas
from assist.service.protocol import IndexUpdated
from assist.service.reindex import Reindexer
from assist.service.warmup import refreeze

if TYPE_CHECKING:
    from assist.service.cluster import Cluster


@dataclass
class Services:
    """Everything the handlers share, created and torn down by the lifespan."""

    settings: Settings
    engine: Engine
    embedder: CachingEmbedder
    batcher: Batcher
    hub: Hub
    store: LogStore
    writer: LogWriter
    tokens: TokenStore
    reindexer: Reindexer
    quotas: Quotas
    started_at: float = field(default_factory=time.time)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    cluster: Cluster | None = None  # with redis configured: the other processes of the service

    def health(self) -> dict[str, Any]:
        """``/healthz``: this process's state; 'degraded' when the log store cannot write (see
        ``log``) or Redis is away (see ``degraded``)."""
        log_health = self.writer.health()
        # Degraded, not down: replies still flow; "log" says why records are spooled or not logged.
        body: dict[str, Any] = {"status": "ok" if log_health["state"] == "ok" else "degraded",
                                "index_version": self.engine.version,
                                "connections": len(self.hub.connections), "pid": os.getpid(),
                                "log": log_health}
        if self.cluster is not None:
            cluster = self.cluster.health()
            body["process"] = cluster["process"]
            body["cluster"] = cluster
            if not cluster["connected"]:
                body["status"] = "degraded"
                body.setdefault("degraded", []).append(
                    f"redis: {cluster['error']}; fan-out to other processes and index "
                    "announcements are paused (local subscribers are served)")
        return body

    def swap_engine(self, engine: Engine) -> None:
        """Make ``engine`` live and tell every connection (batches running keep the old one)."""
        self.engine = engine
        refreeze()
        self.hub.broadcast(IndexUpdated(index_version=engine.version,
                                        entries=len(engine.index.entries)).model_dump_json())

    def spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        """Run work that must finish before shutdown completes (message handling)."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task
