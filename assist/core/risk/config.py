"""Thresholds of the risk detector, as one pydantic model (documented in docs/risk.md).

The retriever decides which knowledge ``risk`` entries are candidates (cosine >=
``RetrievalConfig.risk_min_score``); these settings decide which candidates the agent sees.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from assist.core.models import Severity


class RiskConfig(BaseModel):
    """Tunable thresholds of the semantic stage; the rule stage has none."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    semantic_min_score: float = Field(
        0.53, ge=0.0, le=1.0,
        description="A semantic match must reach this blended retrieval score (cosine plus "
                    "character overlap). Calibrated on the dev split of risk_set.jsonl.")
    unlinked_phishing_severity: Severity = Field(
        "info",
        description="Severity of a semantic phishing_link match in a message that has no link "
                    "and asks the agent to open nothing: the link may come in the next message.")
