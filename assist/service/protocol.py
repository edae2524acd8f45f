"""Every frame of the websocket protocol (v1) and the HTTP bodies, as pydantic models.

docs/protocol.md documents these; tests check that every frame type here appears there.
Client frames are parsed in two steps so errors can say what went wrong: JSON (``bad_json``),
then the ``type`` field (``unknown_type``), then the fields of that type (``bad_frame``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from assist.core.models import Attachment, PolicySnippet, Risk, ScriptSuggestion
from assist.core.vocabulary import FeedbackAction

PROTOCOL_VERSION = 1
Role = Literal["agent", "admin", "qa"]
Action = FeedbackAction
ErrorCode = Literal["bad_json", "bad_frame", "unknown_type", "too_large", "too_many_attachments",
                    "binary_not_supported", "rate_limited", "busy", "forbidden", "not_found",
                    "internal"]

# Identifiers from chat platforms: bounded so a client cannot make us store megabytes of keys.
Ident = Field(min_length=1, max_length=128)
ConversationIds = Annotated[list[Annotated[str, Field(min_length=1, max_length=128)]],
                           Field(min_length=1, max_length=1000)]


class Frame(BaseModel):
    """Base of client frames: unknown fields are refused, ``ref`` is echoed back."""

    model_config = ConfigDict(extra="forbid")
    ref: str | None = Field(default=None, max_length=128)


# ---- client → server ---------------------------------------------------------------------------

class Subscribe(Frame):
    type: Literal["subscribe"]
    conversation_ids: ConversationIds


class Unsubscribe(Frame):
    type: Literal["unsubscribe"]
    conversation_ids: ConversationIds


class CustomerMessage(Frame):
    type: Literal["customer_message"]
    conversation_id: str = Ident
    message_id: str = Ident
    text: str
    attachments: list[Attachment] = Field(default_factory=list)
    sent_at: float | str | None = None


class Feedback(Frame):
    type: Literal["feedback"]
    message_id: str = Ident
    suggestion_id: str = Field(max_length=256)
    action: Action
    final_text: str | None = None


class Ping(Frame):
    type: Literal["ping"]
    ts: float | None = None


class Pong(Frame):
    type: Literal["pong"]
    ts: float | None = None


CLIENT_FRAMES: dict[str, type[Frame]] = {
    "subscribe": Subscribe, "unsubscribe": Unsubscribe, "customer_message": CustomerMessage,
    "feedback": Feedback, "ping": Ping, "pong": Pong,
}


# ---- server → client ---------------------------------------------------------------------------

class Limits(BaseModel):
    max_text_bytes: int
    max_attachments: int
    rate_per_s: float
    token_rate_per_s: float | None = Field(None, description="frames per second for all of the "
                                                             "token's connections together")


class Welcome(BaseModel):
    type: Literal["welcome"] = "welcome"
    v: int = PROTOCOL_VERSION
    role: Role
    agent: str
    index_version: str
    heartbeat_s: float
    limits: Limits


class Suggestions(BaseModel):
    type: Literal["suggestions"] = "suggestions"
    message_id: str
    conversation_id: str
    scripts: list[ScriptSuggestion]
    policies: list[PolicySnippet]
    risks: list[Risk]
    index_version: str
    latency_ms: float
    text: str = Field(description="the customer text as received: untrusted, render as text")


class Ack(BaseModel):
    type: Literal["ack"] = "ack"
    ref: str | None = None
    message_id: str | None = None
    logged: bool = Field(True, description="stored or spooled; false: the log could keep nothing "
                                           "more (the store is down and the spool full)")


class Subscribed(BaseModel):
    type: Literal["subscribed"] = "subscribed"
    ref: str | None = None
    conversation_ids: list[str]


class Unsubscribed(BaseModel):
    type: Literal["unsubscribed"] = "unsubscribed"
    ref: str | None = None
    conversation_ids: list[str]


class IndexUpdated(BaseModel):
    type: Literal["index_updated"] = "index_updated"
    index_version: str
    entries: int


class Error(BaseModel):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    ref: str | None = None


class ServerPing(BaseModel):
    type: Literal["ping"] = "ping"
    ts: float


class ServerPong(BaseModel):
    type: Literal["pong"] = "pong"
    ts: float | None = None


SERVER_FRAMES: tuple[type[BaseModel], ...] = (Welcome, Suggestions, Ack, Subscribed, Unsubscribed,
                                              IndexUpdated, Error, ServerPing, ServerPong)


# ---- HTTP bodies -------------------------------------------------------------------------------

class SuggestRequest(BaseModel):
    """``POST /api/suggest``; with conversation_id and message_id it is also ingested."""

    model_config = ConfigDict(extra="forbid")
    text: str
    attachments: list[Attachment] = Field(default_factory=list)
    conversation_id: str | None = Field(default=None, min_length=1, max_length=128)
    message_id: str | None = Field(default=None, min_length=1, max_length=128)
    sent_at: float | str | None = None


class SuggestResponse(BaseModel):
    scripts: list[ScriptSuggestion]
    policies: list[PolicySnippet]
    risks: list[Risk]
    index_version: str
    latency_ms: float
    logged: bool | None = Field(None, description="with conversation_id and message_id: whether the "
                                                  "message was logged (see the ack's logged)")


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_id: str = Ident
    suggestion_id: str = Field(max_length=256)
    action: Action
    final_text: str | None = None


class IndexInfo(BaseModel):
    version: str
    entries: int
    built_at: str
    embedder: str
    vectors: int


class ReindexResponse(BaseModel):
    ok: bool
    index_version: str
    entries: int
    unchanged: bool = False
    errors: list[str] = Field(default_factory=list)
    seconds: float = 0.0
