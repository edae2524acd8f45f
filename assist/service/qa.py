"""The QA review page and API (issue 6): ``/qa`` and ``/api/qa/*`` go here.

Use ``require_role("qa", "admin")`` from ``assist.service.api`` for auth and
``request.state.services.store`` (a ``LogStore``: ``query_messages``, ``conversation``,
``feedback_for``) for data; run store calls in a thread (``asyncio.to_thread``), they block.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
