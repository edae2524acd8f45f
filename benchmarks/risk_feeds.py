"""Third-party threat feeds through the detector (used by ``benchmarks/risk.py --feeds DIR``).

The feed files stay where they are (``../shared/data/risk-feeds/``: PhishTank, OpenPhish and
URLhaus URLs, Tranco popular domains, MalwareBazaar file names with MIME types); nothing from
them is copied into the repository. Each URL is wrapped in one of several buyer sentences
(pretexts, neutral questions, a bare link) picked round-robin, so extraction, pretexts and
severities are all exercised; each MalwareBazaar row becomes an attachment of a short buyer
message. Figures: per feed the share flagged (warn or block) and blocked, MalwareBazaar per
declared file type.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assist.core.models import Attachment, Risk

# Buyer sentences around a link: pretexts from the training material's 网购安全 section, plain
# questions and a bare paste. Round-robin, so every feed sees each form equally often.
LINK_TEMPLATES: tuple[str, ...] = (
    "退款链接 {url}",
    "{url} 这个拍不了",
    "我在这付的款 {url} 你看下",
    "{url}",
    "亲 这个同款有吗 {url}",
    "你帮我看看这个链接 {url} 怎么打不开",
    "订单异常了 让我点这个 {url}",
    "你们家是不是这个 {url}",
    "看下这个 {url} 有货吗",
    "理赔的页面在这 {url} 怎么填",
    "{url} 这上面的价格便宜些 能便宜吗",
    "朋友发我的 {url} 是你们店吗",
)
FILE_TEMPLATES: tuple[str, ...] = (
    "文件发你了", "订单明细在附件里 你看下", "", "这是我要的款式", "付款截图",
    "麻烦看下这个清单 报个价",
)
URL_FEEDS: tuple[tuple[str, str, bool], ...] = (  # (file prefix, label, risky)
    ("phishtank", "PhishTank", True),
    ("openphish", "OpenPhish", True),
    ("urlhaus", "URLhaus", True),
    ("tranco", "Tranco (benign)", False),
)
MALWARE_PREFIX = "malwarebazaar"

Detect = Callable[[Sequence[tuple[str, list[Attachment]]]], list[list[Risk]]]


@dataclass
class Tally:
    total: int = 0
    flagged: int = 0
    blocked: int = 0

    def add(self, risks: list[Risk]) -> None:
        self.total += 1
        self.flagged += bool(risks)
        self.blocked += any(r.severity == "block" for r in risks)

    def line(self, label: str) -> str:
        n = self.total or 1
        return (f"  {label:42s} {self.total:5d}   flagged {self.flagged / n:7.2%}   "
                f"blocked {self.blocked / n:7.2%}   warned only {(self.flagged - self.blocked) / n:7.2%}")


def _feed_file(folder: Path, prefix: str) -> Path | None:
    found = sorted(folder.glob(prefix + "*"))
    return found[0] if found else None


def feed_urls(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text("utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def wrap(url: str, n: int) -> str:
    return LINK_TEMPLATES[n % len(LINK_TEMPLATES)].format(url=url)


def malware_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def run_feeds(folder: Path, detect: Detect, errors: bool, batch: int = 256) -> None:
    """Print the per-feed figures; ``detect`` takes (text, attachments) pairs."""
    print(f"\nfeeds in {folder}")

    def run(messages: list[tuple[str, list[Attachment]]]) -> list[list[Risk]]:
        out: list[list[Risk]] = []
        for start in range(0, len(messages), batch):
            out.extend(detect(messages[start:start + batch]))
        return out

    for prefix, label, risky in URL_FEEDS:
        path = _feed_file(folder, prefix)
        if path is None:
            print(f"  {label}: no {prefix}* file")
            continue
        urls = feed_urls(path)
        texts = [wrap(url, n) for n, url in enumerate(urls)]
        results = run([(t, []) for t in texts])
        tally, per_template = Tally(), [Tally() for _ in LINK_TEMPLATES]
        for n, risks in enumerate(results):
            tally.add(risks)
            per_template[n % len(LINK_TEMPLATES)].add(risks)
        print(tally.line(f"{label} ({path.name})"))
        if errors:
            for t, template in zip(per_template, LINK_TEMPLATES, strict=True):
                print("    " + t.line(template)[2:])
            shown = 0
            for text, risks in zip(texts, results, strict=True):
                worst = "block" if any(r.severity == "block" for r in risks) else (
                    "flag" if risks else "none")
                if (risky and worst != "block") or (not risky and worst == "block"):
                    rules = [(r.severity, r.rule) for r in risks]
                    print(f"      {worst:5s} {text[:110]!r} {rules}")
                    shown += 1
                    if shown >= 60:
                        break
    path = _feed_file(folder, MALWARE_PREFIX)
    if path is None:
        print(f"  MalwareBazaar: no {MALWARE_PREFIX}* file")
        return
    rows = malware_rows(path)
    messages = [(FILE_TEMPLATES[n % len(FILE_TEMPLATES)],
                 [Attachment(name=row["file_name"], mime=row.get("mime", ""))])
                for n, row in enumerate(rows)]
    results = run(messages)
    total, per_type = Tally(), {}
    misses = []
    for row, risks in zip(rows, results, strict=True):
        files = [r for r in risks if r.type == "malicious_file"]
        total.add(files)
        per_type.setdefault(row.get("file_type", "?"), Tally()).add(files)
        if not files:
            misses.append(f"{row['file_name']!r} {row.get('mime')}")
    print(total.line(f"MalwareBazaar ({path.name})") + "   (malicious_file risks)")
    for kind, tally in sorted(per_type.items(), key=lambda kv: -kv[1].total):
        print("    " + tally.line(kind)[2:])
    if errors:
        for miss in Counter(misses).most_common(60):
            print(f"      miss {miss[0]} x{miss[1]}")
