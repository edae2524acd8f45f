"""Risk detector on a labelled set of buyer messages (a benchmark, not a test).

Each line of the set is {"text", "attachments"?: [Attachment], "risky": bool, "types": [risk
types a perfect detector reports], "split": "dev" | "heldout" | "test" | ..., "family"/"kind"?}.
A risky message counts as caught for a type when the detector reports that type; a risky
message without ``types`` (the blind sets label a scam family, not risk types) counts as caught
when anything at all is reported; a benign message is a false positive when the detector
reports anything at all (info included). ``family``/``kind`` get their own breakdown.

Two stages are measured: the rule stage alone (links, files, intents; no embedding) and the
full detector, which adds the semantic matches of the knowledge ``risk`` entries found by the
retriever on an index built from the shipped knowledge folder.

    python benchmarks/risk.py                 # both stages, per split and overall
    python benchmarks/risk.py --rules-only    # skip the index and the embedder
    python benchmarks/risk.py --errors        # list misses and false positives
    python benchmarks/risk.py --set benchmarks/data/risk_set.jsonl \
        --set benchmarks/data/risk_fresh.jsonl --set benchmarks/data/risk_fresh2.jsonl
    python benchmarks/risk.py --all-sets --feeds ../shared/data/risk-feeds

Sets: ``risk_set.jsonl`` (dev/heldout; the rules were tuned on both), ``risk_fresh.jsonl``
(written after the rules; its two misses were then fixed) and ``risk_fresh2.jsonl`` (written
before the second round of changes and never tuned on: the honest generalisation figure), and
the blind sets ``risk_pretexts/risk_questions/risk_benign.jsonl`` (dev/test halves; tune on dev
only). ``--feeds DIR`` adds the third-party threat feeds (see ``risk_feeds.py``), end to end
through the engine on an index of the knowledge folder *without* its ``lists/`` (a shop's own
folder usually has none, so the built-in defaults apply).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assist.core.index.format import LISTS_DIR  # noqa: E402
from assist.core.models import RISK_TYPES, Attachment, Risk  # noqa: E402
from assist.core.risk import RiskDetector, build_detector  # noqa: E402
from benchmarks.risk_feeds import run_feeds  # noqa: E402

DATA = Path(__file__).parent / "data"
DEFAULT_SET = DATA / "risk_set.jsonl"
TIMING_ROUNDS = 5  # rule-stage latency: median over rounds per message, to smooth scheduler noise


@dataclass
class Item:
    text: str
    attachments: list[Attachment]
    risky: bool
    types: list[str]
    split: str
    group: str = ""


@dataclass
class Report:
    name: str
    n_risky: int = 0
    n_benign: int = 0
    caught_any: int = 0
    false_positives: int = 0
    offsite_only: int = 0  # benign messages whose only flag is the by-design 站外链接 warning
    per_type: Counter = field(default_factory=Counter)
    per_type_caught: Counter = field(default_factory=Counter)
    per_group: Counter = field(default_factory=Counter)
    per_group_hit: Counter = field(default_factory=Counter)  # risky caught / benign flagged
    errors: list[str] = field(default_factory=list)

    def add(self, item: Item, risks: list[Risk]) -> None:
        found = {r.type for r in risks}
        if item.group:
            self.per_group[(item.risky, item.group)] += 1
            self.per_group_hit[(item.risky, item.group)] += bool(found)
        if item.risky:
            self.n_risky += 1
            self.caught_any += bool(found)
            for kind in item.types or ["(any)"]:
                self.per_type[kind] += 1
                self.per_type_caught[kind] += kind in found or (kind == "(any)" and bool(found))
            missing = set(item.types) - found if item.types else ({"(any)"} if not found else set())
            if missing:
                self.errors.append(f"MISS {sorted(missing)}: {item.text[:70]!r} "
                                   f"{[a.name for a in item.attachments]}")
        else:
            self.n_benign += 1
            if risks:
                self.false_positives += 1
                self.offsite_only += all(r.rule == "link.offsite" for r in risks)
                self.errors.append(f"FP {[(r.type, r.source, r.rule) for r in risks]}: "
                                   f"{item.text[:70]!r}")

    @property
    def recall(self) -> float:
        total = sum(self.per_type.values())
        return sum(self.per_type_caught.values()) / total if total else 1.0

    @property
    def fp_rate(self) -> float:
        return self.false_positives / self.n_benign if self.n_benign else 0.0

    def print(self, errors: bool) -> None:
        print(f"== {self.name}: {self.n_risky} risky, {self.n_benign} benign")
        print(f"  recall (type-level) {self.recall:.3f}   any-risk caught "
              f"{self.caught_any}/{self.n_risky}   false positives {self.false_positives}/"
              f"{self.n_benign} = {self.fp_rate:.3%}"
              + (f" ({self.offsite_only} only the by-design 站外链接 warning)"
                 if self.offsite_only else ""))
        for kind in (*RISK_TYPES, "(any)"):
            if self.per_type[kind]:
                print(f"    {kind:22s} {self.per_type_caught[kind]:3d}/{self.per_type[kind]:3d} "
                      f"= {self.per_type_caught[kind] / self.per_type[kind]:.3f}")
        for (risky, group), n in sorted(self.per_group.items()):
            hit = self.per_group_hit[(risky, group)]
            what = "caught" if risky else "flagged"
            print(f"    [{group}] {what} {hit}/{n}")
        if errors:
            for line in self.errors:
                print("    " + line)


def load_set(path: Path) -> list[Item]:
    items = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        unknown = set(row.get("types", [])) - set(RISK_TYPES)
        if unknown:
            raise SystemExit(f"{path}:{number}: unknown risk types {sorted(unknown)}")
        items.append(Item(row["text"], [Attachment(**a) for a in row.get("attachments", [])],
                          bool(row["risky"]), list(row.get("types", [])), row.get("split", "dev"),
                          str(row.get("family") or row.get("kind") or "")))
    return items


def evaluate(items: list[Item], detect: Callable[[Item], list[Risk]], name: str,
             errors: bool) -> None:
    reports = {split: Report(f"{name} · {split}") for split in sorted({i.split for i in items})}
    overall = Report(f"{name} · all")
    for item in items:
        risks = detect(item)
        reports[item.split].add(item, risks)
        overall.add(item, risks)
    for report in reports.values():  # errors per split, so tuning can look at dev alone
        report.print(errors)
    if len(reports) > 1:
        overall.print(False)


def latency(samples_ms: list[float], label: str) -> None:
    ordered = sorted(samples_ms)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    print(f"  {label}: median {statistics.median(ordered):.3f} ms, p99 {p99:.3f} ms, "
          f"max {ordered[-1]:.3f} ms per message ({len(ordered)} messages)")


def rule_latency(detector: RiskDetector, items: list[Item]) -> list[float]:
    for item in items:  # warm-up: regex caches, tldextract trie
        detector.rule_risks(item.text, item.attachments)
    samples = []
    for item in items:
        runs = []
        for _ in range(TIMING_ROUNDS):
            start = time.perf_counter()
            detector.rule_risks(item.text, item.attachments)
            runs.append((time.perf_counter() - start) * 1000)
        samples.append(statistics.median(runs))
    return samples


def run_rules(items: list[Item], detector: RiskDetector, errors: bool) -> None:
    evaluate(items, lambda i: detector.rule_risks(i.text, i.attachments), "rules", errors)
    latency(rule_latency(detector, items), "rule stage")


def run_full(items: list[Item], engine, errors: bool) -> None:  # noqa: ANN001 (Engine, lazy import)
    detector = engine.risk_detector
    evaluate(items, lambda i: detector.rule_risks(i.text, i.attachments), "rules", errors)
    full: list[list[Risk]] = []
    full_ms = []
    engine.suggest("预热一下")
    for item in items:
        start = time.perf_counter()
        full.append(engine.suggest(item.text, item.attachments).risks)
        full_ms.append((time.perf_counter() - start) * 1000)
    lookup = {id(item): n for n, item in enumerate(items)}
    evaluate(items, lambda i: full[lookup[id(i)]], "rules+semantic", errors)
    print("latency")
    latency(rule_latency(detector, items), "rule stage")
    latency(full_ms, "full suggest incl. embedding, retrieval, rules+semantic")


def describe(path: Path, items: list[Item]) -> None:
    risky = sum(i.risky for i in items)
    print(f"\nset {path.name}: {len(items)} messages, {risky} risky, {len(items) - risky} benign, "
          f"types {dict(Counter(t for i in items for t in i.types))}")


ALL_SETS = ("risk_set.jsonl", "risk_fresh.jsonl", "risk_fresh2.jsonl", "risk_pretexts.jsonl",
            "risk_questions.jsonl", "risk_benign.jsonl")


def resolve_feeds(path: Path) -> Path:
    """``path`` as given, else relative to the repository or one of its parents.

    ``../shared/data/risk-feeds`` is written relative to a checkout in the workspace root;
    a worktree one level deeper finds it too.
    """
    candidates = [path] if path.is_absolute() else [
        path, REPO / path, *(parent / path for parent in REPO.parents)]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    raise SystemExit(f"--feeds {path}: no such folder (tried {', '.join(map(str, candidates))})")


def shop_knowledge(knowledge: Path, into: Path) -> Path:
    """A copy of ``knowledge`` without ``lists/``: a shop's own folder, built-in lists only."""
    target = into / "knowledge"
    shutil.copytree(knowledge, target, ignore=shutil.ignore_patterns(LISTS_DIR))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, action="append",
                        help=f"a labelled set; repeatable (default {DEFAULT_SET.name})")
    parser.add_argument("--all-sets", action="store_true",
                        help="every set in benchmarks/data: " + ", ".join(ALL_SETS))
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    parser.add_argument("--feeds", type=Path,
                        help="folder of threat feeds (e.g. ../shared/data/risk-feeds)")
    parser.add_argument("--no-sets", action="store_true", help="only the feeds")
    parser.add_argument("--rules-only", action="store_true", help="skip the semantic stage")
    parser.add_argument("--errors", action="store_true", help="list misses and false positives")
    args = parser.parse_args()

    paths = [DATA / name for name in ALL_SETS] if args.all_sets else (args.set or [DEFAULT_SET])
    sets = [] if args.no_sets else [(path, load_set(path)) for path in paths]
    feeds = resolve_feeds(args.feeds) if args.feeds else None
    if args.rules_only:
        detector = build_detector(None)
        for path, items in sets:
            describe(path, items)
            run_rules(items, detector, args.errors)
        if feeds is not None:
            run_feeds(feeds, lambda batch: [detector.rule_risks(t, a) for t, a in batch],
                      args.errors)
        return

    from assist.core.embedders import shared_embedder
    from assist.core.engine import Message, open_engine
    from assist.core.index.build import build_index

    embedder = shared_embedder("use")
    with tempfile.TemporaryDirectory() as tmp:
        knowledge = shop_knowledge(args.knowledge, Path(tmp)) if feeds else args.knowledge
        index_dir = Path(tmp) / "index"
        print(build_index(knowledge, index_dir, embedder, progress=False))
        engine = open_engine(index_dir, embedder)
        assert isinstance(engine.risk_detector, RiskDetector), "assist.core.risk did not wire into the engine"
        if feeds is not None:
            print(f"knowledge {args.knowledge} without {LISTS_DIR}/ (built-in host lists only)")
        for path, items in sets:  # one index for all sets
            describe(path, items)
            run_full(items, engine, args.errors)
        if feeds is not None:
            run_feeds(feeds, lambda batch: [r.risks for r in engine.suggest_many(
                [Message(t, a) for t, a in batch])], args.errors)


if __name__ == "__main__":
    main()
