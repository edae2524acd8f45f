"""Keep tokens out of server logs.

Browsers cannot set headers on a websocket, so the widget sends its token in the query string
(``/ws?token=…``), and uvicorn logs request paths with their query strings.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

_PARAM = re.compile(r"((?:^|[?&;])([^=&;?\s\"]+)=)([^&;\s\"]+)")
LOGGERS = ("uvicorn.access", "uvicorn.error")


def _hide(match: re.Match[str]) -> str:
    # By the decoded name: only the literal "token" authenticates, but "%74oken=" or "TOKEN="
    # may still carry a secret that was sent by mistake.
    name = unquote(match.group(2)).lower()
    return f"{match.group(1)}***" if name in ("token", "access_token") else match.group(0)


def redact(text: str) -> str:
    return _PARAM.sub(_hide, text)


class TokenRedactingFilter(logging.Filter):
    """Rewrites string arguments of a record so ``token=<secret>`` reads ``token=***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """Attach the filter to uvicorn's loggers once (idempotent: tests start many servers)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, TokenRedactingFilter) for f in logger.filters):
            logger.addFilter(TokenRedactingFilter())
