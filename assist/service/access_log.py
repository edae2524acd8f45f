"""Keep tokens out of server logs.

Browsers cannot set headers on a websocket, so the widget sends its token in the query string
(``/ws?token=…``), and uvicorn logs request paths with their query strings.
"""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"((?:^|[?&])token=)[^&\s\"]+")
LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    return _TOKEN.sub(r"\1***", text)


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
