"""Result types shared by the retrieval core, the risk detector, the CLI and the service.

These are the JSON the CLI prints with ``--json`` and ``/api/suggest`` returns.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Severity = Literal["block", "warn", "info"]
RiskType = Literal[
    "phishing_link",
    "malicious_file",
    "impersonation",
    "off_platform_payment",
    "off_platform_contact",
    "verification_code",
    "account_switch",
    "fake_review",
    "extortion_bait",
    "click_for_me",
]
RISK_TYPES: tuple[str, ...] = RiskType.__args__  # type: ignore[attr-defined]


class Attachment(BaseModel):
    """A file the buyer sent, as the chat platform describes it."""

    name: str = Field(max_length=512)
    mime: str = Field(default="", max_length=255)
    size: int = Field(default=0, ge=0)
    # First bytes of the file, base64, where the bridge has them (for magic-byte checks).
    head_b64: str | None = Field(default=None, max_length=4096)


class ScriptSuggestion(BaseModel):
    id: str
    category: str
    title: str
    reply: str
    score: float
    matched: str = Field(description="the example phrasing that matched best")
    matched_from: str | None = Field(
        None, description="standard-library entry the matched phrasing was borrowed from "
                          "(None: the entry's own question, title or reply)")


class PolicySnippet(BaseModel):
    id: str
    category: str
    title: str
    text: str
    score: float


class Risk(BaseModel):
    type: RiskType
    severity: Severity
    reason: str = Field(description="why this is risky, in Chinese, for the agent")
    evidence: str = Field(description="the span of the message (or attachment name) that fired")
    span: tuple[int, int] | None = Field(default=None, description="[start, end) in the text")
    reply: str = Field(description="a safe reply template the agent can send")
    source: Literal["rule", "semantic"] = "rule"
    rule: str = Field(default="", description="which rule or knowledge entry fired")


class SuggestResult(BaseModel):
    scripts: list[ScriptSuggestion] = Field(default_factory=list)
    policies: list[PolicySnippet] = Field(default_factory=list)
    risks: list[Risk] = Field(default_factory=list)
