"""The real-time suggestion service: FastAPI app, websocket protocol, auth, fan-out.

FastAPI only: no click, no printing. ``assist.service.app.create_app`` builds the app.
"""
