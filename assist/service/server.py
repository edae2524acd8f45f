"""The uvicorn server the service runs under, with the limits uvicorn does not have by itself.

- A deadline for request headers: uvicorn times out idle keep-alive connections, but not a
  fresh connection that sends nothing, nor one that sends half a request head; both would hold
  a socket (and a slot) forever. The protocol below closes them after ``header_timeout_s``.
- A size limit for request heads: httptools has none, so a client could send megabytes of
  headers within the deadline; beyond ``MAX_HEAD_BYTES`` it gets 431 and is closed.
- Shutdown closes websockets with 1001 (going away), as docs/protocol.md says, before uvicorn's
  own shutdown would close them with 1012.
"""

from __future__ import annotations

import asyncio
import logging
from asyncio import TimerHandle
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from assist.core.settings import Settings

log = logging.getLogger(__name__)
MAX_HEAD_BYTES = 64 * 1024


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """httptools' protocol, closing connections whose request head does not arrive in time."""

    header_timeout: float = 10.0  # set per server by ``build_server``

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_bytes = 0
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def data_received(self, data: bytes) -> None:
        # Bytes of a new request (not the body of the current one) start its head's deadline.
        if self.cycle is None or self.cycle.response_complete:
            self._arm()
        if self._head_timer is not None:
            self._head_bytes += len(data)
        super().data_received(data)
        if (self._head_timer is not None and self._head_bytes > MAX_HEAD_BYTES
                and not self.transport.is_closing()):
            self._disarm()  # the head is still not complete, and already too large
            self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                 b"content-length: 0\r\nconnection: close\r\n\r\n")
            self.transport.close()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            log.info("closing %s: no complete request head within %.0fs",
                     self.client[0] if self.client else "a client", self.header_timeout)
            self.transport.abort()


class AssistServer(uvicorn.Server):
    """Closes the app's websockets with 1001 first, then shuts down as uvicorn does."""

    async def shutdown(self, sockets: Any = None) -> None:
        app: Any = self.config.loaded_app
        services = getattr(getattr(app, "state", None), "services", None)
        while services is None and app is not None:  # through uvicorn's wrappers to the FastAPI app
            app = getattr(app, "app", None)
            services = getattr(getattr(app, "state", None), "services", None)
        if services is not None:
            for server in self.servers:  # no new connections while the old ones are told
                server.close()
            await services.hub.stop()
            await asyncio.sleep(0.1)  # let the close frames go out before uvicorn closes transports
        await super().shutdown(sockets)


def server_options(settings: Settings) -> dict[str, Any]:
    """``uvicorn.Config`` options with the service's limits."""
    protocol = type("HeaderDeadline", (HeaderDeadlineProtocol,),
                    {"header_timeout": settings.header_timeout_s})
    return {
        "host": settings.host, "port": settings.port, "log_level": "info",
        # Frames far beyond the text limit are cut off by the protocol layer (close 1009).
        "ws_max_size": max(1 << 20, settings.max_text_bytes * 8),
        # No permessage-deflate: frames are small and compressing them was the largest single
        # cost of the event loop under load.
        "ws_per_message_deflate": False,
        "timeout_graceful_shutdown": 15, "timeout_keep_alive": settings.keep_alive_s,
        "limit_concurrency": settings.max_connections, "http": protocol,
    }


def build_server(app: Any, settings: Settings, **overrides: Any) -> AssistServer:
    """The server for ``app`` with the service's limits; ``overrides`` go to ``uvicorn.Config``."""
    return AssistServer(uvicorn.Config(app, **{**server_options(settings), **overrides}))
