"""Tokens with roles, and the Origin allow-list for browser websockets.

Tokens are configured as ``TOKEN:role`` or, better, ``sha256:HEX:role`` (``assist token`` prints
both forms); in memory and on disk only their SHA-256 is kept. With no tokens configured and
dev mode on, an admin token is generated once, kept in ``<data>/dev-token`` (mode 0600, so
restarts reuse it) and printed at start-up: the first run is one command, and auth stays on.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import get_args
from urllib.parse import unquote

from assist.service.protocol import Role

log = logging.getLogger(__name__)
ROLES: tuple[str, ...] = get_args(Role)
DEV_TOKEN_FILE = "dev-token"


class AuthConfigError(ValueError):
    """A token entry that cannot be parsed; says which one and why."""


@dataclass(frozen=True)
class Principal:
    """Who is on the other end: the role and a name for logs (a short hash of the token)."""

    role: str
    agent: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    def __init__(self, entries: list[str]) -> None:
        self._roles: dict[str, str] = {}
        for n, entry in enumerate(entries, 1):
            digest, role = self._parse(entry, n)
            self._roles[digest] = role

    @staticmethod
    def _parse(entry: str, n: int) -> tuple[str, str]:
        secret, sep, role = entry.strip().rpartition(":")
        if not sep or not secret:
            raise AuthConfigError(f"token #{n}: expected 'TOKEN:role' or 'sha256:HEX:role', "
                                  f"got {len(entry)} characters without a ':role' suffix")
        if role not in ROLES:
            raise AuthConfigError(f"token #{n}: role must be one of {', '.join(ROLES)}, got {role!r}")
        if secret.startswith("sha256:"):
            digest = secret.removeprefix("sha256:").lower()
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise AuthConfigError(f"token #{n}: sha256: must be followed by 64 hex digits")
            return digest, role
        if len(secret) < 8:
            raise AuthConfigError(f"token #{n}: tokens must be at least 8 characters")
        return hash_token(secret), role

    def __len__(self) -> int:
        return len(self._roles)

    def add(self, token: str, role: str) -> None:
        self._roles[hash_token(token)] = role

    def authenticate(self, token: str | None) -> Principal | None:
        """The principal for ``token``, or None. Compares digests in constant time."""
        if not token:
            return None
        digest = hash_token(token)
        for known, role in self._roles.items():
            if hmac.compare_digest(known, digest):
                return Principal(role=role, agent=f"{role}-{digest[:8]}")
        return None


def dev_token(data_dir: Path) -> str:
    """The dev admin token: read from the data directory, or generated and saved there."""
    path = Path(data_dir) / DEV_TOKEN_FILE
    if path.is_file():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token


def build_tokens(entries: list[str], dev: bool, data_dir: Path) -> tuple[TokenStore, str | None]:
    """The configured tokens, plus the dev admin token (returned) when none are configured."""
    store = TokenStore(entries)
    if len(store):
        return store, None
    if not dev:
        raise AuthConfigError("no tokens configured and dev mode is off: set ASSIST_TOKENS "
                              "(e.g. ASSIST_TOKENS=SECRET:agent,OTHER:admin) or tokens in the config file")
    token = dev_token(data_dir)
    store.add(token, "admin")
    return store, token


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header."""
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None


def query_token(query_string: bytes) -> str | None:
    """The value of the literal ``token`` query parameter (``%74oken=`` and the like are not it:
    a name that only decodes to ``token`` is a way around log redaction, not a way in)."""
    for part in query_string.split(b"&"):
        name, sep, value = part.partition(b"=")
        if sep and name == b"token":
            return unquote(value.decode("latin-1").replace("+", " ")) or None
    return None


def own_origins(server: tuple[str, int] | None, public_origin: str = "") -> set[str]:
    """The Origins a browser shows for pages of this service: the configured public origin, and
    the address the connection actually reached (its local socket address, never the Host header,
    which the client writes)."""
    origins = {public_origin.rstrip("/").lower()} if public_origin else set()
    if server is None:
        return origins
    host, port = server
    names = {host}
    if host in ("127.0.0.1", "::1"):
        names |= {"localhost", "127.0.0.1", "::1"}
    for name in names:
        shown = f"[{name}]" if ":" in name else name
        for scheme, default in (("http", 80), ("https", 443)):
            origins.add(f"{scheme}://{shown}:{port}")
            if port == default:
                origins.add(f"{scheme}://{shown}")
    return origins


def origin_allowed(origin: str | None, own: set[str], patterns: list[str]) -> bool:
    """Non-browser clients send no Origin and pass; a browser must be same-origin or listed."""
    if origin is None:
        return True
    if origin.rstrip("/").lower() in own:
        return True
    return any(fnmatch.fnmatchcase(origin, pattern) for pattern in patterns)
