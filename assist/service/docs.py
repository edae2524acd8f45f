"""``/docs``: Swagger UI served from this service, so it works offline (no CDN).

The Swagger UI files come from the ``fastapi-offline`` package, which ships swagger-ui-dist;
FastAPI's own ``/docs`` would load them from a public CDN.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
          "favicon.png": "image/png"}


def assets_dir() -> Path | None:
    try:
        import fastapi_offline
    except ImportError:
        return None
    folder = Path(fastapi_offline.__file__).parent / "static"
    return folder if folder.is_dir() else None


def mount(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        if assets_dir() is None:
            raise HTTPException(404, "API docs need the fastapi-offline package; the schema is at "
                                     "/openapi.json")
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json",
                                   title=f"{app.title} API",
                                   swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs/assets/swagger-ui.css",
                                   swagger_favicon_url="/docs/assets/favicon.png")

    @app.get("/docs/assets/{name}", include_in_schema=False)
    async def swagger_asset(name: str) -> FileResponse:
        folder = assets_dir()
        if name not in ASSETS or folder is None:  # a fixed list: no paths from the URL
            raise HTTPException(404, "no such asset")
        return FileResponse(folder / name, media_type=ASSETS[name],
                            headers={"Cache-Control": "public, max-age=86400"})
