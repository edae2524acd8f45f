"""The widget's files at ``/widget/`` and its demo console at ``/agent``.

The files are package data: ``widget_files`` beside this module is a link to the repository's
``widget/`` in a checkout and a real folder in an installed wheel, so both serve the same files.
A ``widget_dir`` setting that names a missing folder answers 404; start-up is fine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse
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


def mount(app: FastAPI, settings: Settings) -> None:
    folder = widget_dir(settings)
    app.mount("/widget", _OptionalStaticFiles(directory=folder, check_dir=False), name="widget")

    @app.get("/agent", include_in_schema=False)
    async def agent_page() -> FileResponse:
        page = folder / "agent.html"
        if not page.is_file():
            raise HTTPException(404, f"the agent console page is not installed ({page.name} missing)")
        return FileResponse(page, media_type="text/html; charset=utf-8")
