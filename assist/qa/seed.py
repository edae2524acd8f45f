"""A synthetic suggestion log (deterministic), for tests, the scale benchmark and demos.

Shapes follow what the service logs: most messages get a suggestion, some are low-confidence
or get none, a few carry risk flags, and agents accept, edit or dismiss about 60% of them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from assist.core.knowledge import Entry
from assist.logstore.base import FeedbackRecord, LogStore, MessageRecord

_SMALL_TALK = ["在吗", "你好", "人呢", "哈哈", "[图片]", "1", "😊", "稍等我问问我老婆"]
_RISKY = {
    "phishing_link": "我拍不下来你帮我看看这个链接 http://tb-pay.example.cn/x",
    "off_platform_payment": "我直接微信转你吧,便宜点",
    "verification_code": "把你收到的验证码发我一下",
    "off_platform_contact": "加我QQ 12345678 详聊",
    "impersonation": "我是平台客服,你的店铺违规了",
}


@dataclass(frozen=True)
class SeedConfig:
    messages: int = 1000
    start: float = 1_750_000_000.0
    days: float = 14.0
    agents: int = 12
    per_conversation: int = 8
    no_suggestion: float = 0.15
    risky: float = 0.04
    feedback: float = 0.6
    seed: int = 7


def synthetic_log(entries: Sequence[Entry], config: SeedConfig = SeedConfig()
                  ) -> Iterator[tuple[MessageRecord, FeedbackRecord | None]]:
    """Messages in time order, each with the agent's feedback (or None)."""
    rng = random.Random(config.seed)
    scripts = [e for e in entries if e.kind == "script"]
    # A skewed popularity, so "most used" has a head and the last entries are never used.
    weights = [1.0 / (rank + 1) for rank in range(len(scripts))]
    usable = scripts[: max(1, len(scripts) - max(1, len(scripts) // 5))]
    step = config.days * 86400 / max(config.messages, 1)
    for n in range(config.messages):
        ts = config.start + n * step + rng.random() * step
        conversation = f"conv-{n // config.per_conversation:07d}"
        agent = f"agent-{(n // config.per_conversation) % config.agents:02d}"
        message_id = f"m-{n:08d}"
        latency = round(rng.lognormvariate(1.5, 0.5), 2)
        roll = rng.random()
        risks: list[dict] = []
        chosen: Entry | None = None
        if roll < config.risky:
            kind = rng.choice(sorted(_RISKY))
            text = _RISKY[kind]
            risks = [{"type": kind, "severity": "block", "reason": "可疑", "evidence": text[:12],
                      "span": None, "reply": "亲,这边不方便哦~", "source": "rule", "rule": kind}]
        elif roll < config.risky + config.no_suggestion:
            text = rng.choice(_SMALL_TALK)
        else:
            chosen = rng.choices(usable, weights=weights[: len(usable)])[0]
            text = rng.choice(chosen.questions) + rng.choice(["", "呢", "啊", "?", "亲"])
        score = round(rng.uniform(0.46, 0.95), 4) if chosen else None
        scripts_shown = [] if chosen is None else [{
            "id": chosen.id, "category": chosen.category, "title": chosen.display_title,
            "reply": chosen.reply, "score": score, "matched": chosen.questions[0]}]
        record = MessageRecord(ts=ts, conversation_id=conversation, message_id=message_id,
                               agent=agent, text=text, scripts=scripts_shown, risks=risks,
                               latency_ms=latency, index_version="v-seed")
        yield record, _feedback(rng, config, record, chosen)


def _feedback(rng: random.Random, config: SeedConfig, record: MessageRecord,
              chosen: Entry | None) -> FeedbackRecord | None:
    if chosen is None or rng.random() >= config.feedback:
        return None
    action = rng.choices(["accepted", "edited", "dismissed"], weights=[5, 3, 2])[0]
    reply = chosen.reply or ""
    final = {"accepted": reply, "dismissed": None,
             "edited": reply[: max(1, len(reply) // 2)] + rng.choice(["哦", "呢,亲", "。谢谢支持"])}[action]
    return FeedbackRecord(ts=record.ts + rng.uniform(2, 30), message_id=record.message_id,
                          suggestion_id=chosen.id, action=action, agent=record.agent,
                          final_text=final)


def seed_store(store: LogStore, entries: Sequence[Entry], config: SeedConfig = SeedConfig(),
               batch: int = 2000) -> int:
    """Write a synthetic log through the store's normal write path; returns messages written."""
    messages: list[MessageRecord] = []
    feedback: list[FeedbackRecord] = []
    written = 0
    for record, fb in synthetic_log(entries, config):
        messages.append(record)
        if fb:
            feedback.append(fb)
        if len(messages) >= batch:
            store.write_messages(messages)
            store.write_feedback(feedback)
            written += len(messages)
            messages, feedback = [], []
    store.write_messages(messages)
    store.write_feedback(feedback)
    return written + len(messages)

