"""Tokens sent in websocket/page query strings never reach the server logs."""

from __future__ import annotations

import logging

from assist.service.access_log import TokenRedactingFilter, install, redact


def _record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, msg, args, None)


def test_access_log_path_is_redacted() -> None:
    record = _record('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                     "/agent?token=s3cret-Tok_en&x=1", "1.1", 200)
    TokenRedactingFilter().filter(record)
    line = record.getMessage()
    assert "s3cret" not in line
    assert "/agent?token=***&x=1" in line


def test_websocket_accept_line_is_redacted() -> None:
    record = _record('%s - "WebSocket %s" [accepted]', "127.0.0.1:5000", "/ws?v=1&token=abc.def")
    TokenRedactingFilter().filter(record)
    assert record.getMessage().endswith('"WebSocket /ws?v=1&token=***" [accepted]')


def test_other_text_is_untouched_and_install_is_idempotent() -> None:
    assert redact("/api/qa/messages?agent=tokenless&limit=5") == "/api/qa/messages?agent=tokenless&limit=5"
    install()
    install()
    filters = [f for f in logging.getLogger("uvicorn.access").filters
               if isinstance(f, TokenRedactingFilter)]
    assert len(filters) == 1


def test_encoded_parameter_names_are_redacted_too() -> None:
    """``%74oken`` does not authenticate, but whatever it carries stays out of the log."""
    assert redact("/ws?%74oken=s3cret&x=1") == "/ws?%74oken=***&x=1"
    assert redact("/agent?TOKEN=s3cret") == "/agent?TOKEN=***"
