"""The real-time suggestion service: FastAPI app, websocket protocol, auth, log store."""

from assist.service.app import Services, create_app

__all__ = ["Services", "create_app"]
