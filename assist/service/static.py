"""The widget's files at ``/widget/`` and its demo console at ``/agent``.

The files are package data: ``widget_files`` beside this module is a link to the repository's
``widget/`` in a checkout and a real folder in an installed wheel, so both serve the same files.
A ``widget_dir`` setting that names a missing folder answers 404; start-up is fine.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from assist.core.settings import Settings


class _OptionalStaticFiles(StaticFiles):
    """StaticFiles whose folder may appear later: 404 until it exists (Starlette would 500)."""

    async def check_config(self) -> None:
        if self.directory is not None and not Path(self.directory).is_dir():
            raise HTTPException(404, "the widget is not installed")
        await super().check_config()

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        # Public files, no credentials: a host console on another origin may load them as modules.
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response


PACKAGED_WIDGET = Path(__file__).parent / "widget_files"


def widget_dir(settings: Settings) -> Path:
    return settings.widget_dir or PACKAGED_WIDGET


SELF = "'self'"
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def page_headers(html: str, frame_origins: list[str]) -> dict[str, str]:
    """Security headers for a page of ours: scripts only from here (inline ones by hash),
    framing only by ourselves and the allowed host consoles, and no Referer (the console's URL
    carries the token)."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
                      for body in _INLINE_SCRIPT.findall(html))
    # Styles may be inline: the sidebar builds its stylesheet in its shadow root at run time.
    policy = (f"default-src 'self'; script-src 'self' {hashes}".rstrip() + "; "
              "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
              "object-src 'none'; base-uri 'none'; form-action 'self'; "
              f"frame-ancestors {' '.join([SELF, *frame_origins])}")
    return {"Content-Security-Policy": policy, "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff"}


def mount(app: FastAPI, settings: Settings) -> None:
    folder = widget_dir(settings)
    app.mount("/widget", _OptionalStaticFiles(directory=folder, check_dir=False), name="widget")
    # frame-ancestors takes CSP source expressions: keep the origin patterns that are such.
    frame_origins = [o for o in settings.origins if re.fullmatch(r"[a-z][a-z0-9+.-]*://[\w.*:-]+", o)]

    @app.get("/agent", include_in_schema=False)
    async def agent_page() -> HTMLResponse:
        page = folder / "agent.html"
        if not page.is_file():
            raise HTTPException(404, f"the agent console page is not installed ({page.name} missing)")
        html = page.read_text(encoding="utf-8")
        return HTMLResponse(html, headers=page_headers(html, frame_origins))
