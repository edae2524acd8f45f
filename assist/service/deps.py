"""Request dependencies the routers share: the app's ``Services`` and the caller's role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from assist.service.auth import Principal, bearer
from assist.service.services import Services


def services_of(request: Request) -> Services:
    return request.state.services


def require_role(*roles: str) -> Callable[[Request], Principal]:
    """A dependency: the caller's principal, or 401 (no/unknown token) / 403 (role)."""

    def dependency(request: Request) -> Principal:
        principal = services_of(request).tokens.authenticate(bearer(request.headers.get("authorization")))
        if principal is None:
            raise HTTPException(401, "missing or unknown token (Authorization: Bearer TOKEN)",
                                headers={"WWW-Authenticate": "Bearer"})
        if principal.role not in roles:
            raise HTTPException(403, f"role {principal.role} may not do this; needs {' or '.join(roles)}")
        return principal

    return dependency


Agent = Annotated[Principal, Depends(require_role("agent", "admin"))]
Reader = Annotated[Principal, Depends(require_role("agent", "admin", "qa"))]
Admin = Annotated[Principal, Depends(require_role("admin"))]
