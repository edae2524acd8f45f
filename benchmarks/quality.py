"""Retrieval quality on held-out buyer phrasings (a benchmark, not a test).

Each line of a labelled set is {"text", "expected": entry id, list of equally right ids, or
null, "group"}: group
"question" (a real question, expected = the entry that should come first), "courtesy"
(acknowledgement/greeting, expected = a courtesy entry) or "offtopic" (expected null: small
talk, bare order numbers, links, emoji — must return no suggestion).

    python benchmarks/quality.py                       # dev and test sets, shipped knowledge
    python benchmarks/quality.py --set benchmarks/data/quality_test.jsonl
    python benchmarks/quality.py --sweep               # grid over the gating knobs (dev set)
    python benchmarks/quality.py --errors              # list the misses
    python benchmarks/quality.py --cv 5                # k-fold over the knowledge's own questions
    python benchmarks/quality.py --shots 2             # shipped base thinned to 2 questions/script
    python benchmarks/quality.py --shops benchmarks/shops [--split dev]   # shop knowledge bases

``--cv`` needs no labelled set: it holds out a fold of every entry's example questions, builds
the index from the rest and asks the held-out questions (expected: their own entry). It is the
tuning signal that no hand-written set has seen.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from assist.core.embedders import shared_embedder  # noqa: E402
from assist.core.engine import Engine, Message, open_engine  # noqa: E402
from assist.core.index.build import build_index  # noqa: E402
from assist.core.knowledge import load_knowledge  # noqa: E402
from assist.core.retrieval import RetrievalConfig  # noqa: E402
from benchmarks.shop_sets import load_shop, shop_folders  # noqa: E402

DATA = Path(__file__).parent / "data"
DEFAULT_SETS = [DATA / "quality_dev.jsonl", DATA / "quality_test.jsonl"]


@dataclass
class Report:
    name: str
    n_questions: int
    recall1: float
    recall3: float
    mrr: float
    courtesy_acc: float
    n_courtesy: int
    offtopic_rejected: float
    n_offtopic: int
    answered_questions: float
    p50_ms: float
    p95_ms: float
    errors: list[str]

    def print(self) -> None:
        print(f"== {self.name}")
        print(f"  questions {self.n_questions}: Recall@1 {self.recall1:.3f}  Recall@3 "
              f"{self.recall3:.3f}  MRR {self.mrr:.3f}  answered {self.answered_questions:.3f}")
        print(f"  courtesy {self.n_courtesy}: top-1 courtesy accuracy {self.courtesy_acc:.3f}")
        print(f"  off-topic {self.n_offtopic}: returned nothing {self.offtopic_rejected:.3f}")
        print(f"  latency per query (single calls): median {self.p50_ms:.2f} ms, "
              f"p95 {self.p95_ms:.2f} ms")


def load_set(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _accepted(expected: str | list[str] | None) -> set[str]:
    """The ids that count as right: one id, or a list where two entries answer equally well."""
    if expected is None:
        return set()
    return {expected} if isinstance(expected, str) else set(expected)


def evaluate(engine: Engine, items: list[dict], name: str, timed: bool = True) -> Report:
    results = engine.suggest_many([Message(i["text"]) for i in items])
    hits1 = hits3 = 0
    rr = 0.0
    answered = courtesy_ok = rejected = 0
    errors = []
    groups = {"question": 0, "courtesy": 0, "offtopic": 0}
    for item, result in zip(items, results, strict=True):
        ids = [s.id for s in result.scripts] + [p.id for p in result.policies]
        script_ids = [s.id for s in result.scripts]
        group = item["group"]
        groups[group] += 1
        wanted = _accepted(item["expected"])
        if group == "question":
            answered += bool(ids)
            ranks = [n for n, entry_id in enumerate(ids, 1) if entry_id in wanted]
            rank = ranks[0] if ranks else None
            hits1 += rank == 1
            hits3 += rank is not None and rank <= 3
            rr += 1 / rank if rank else 0.0
            ok = rank == 1
        elif group == "courtesy":  # expected null: a shop without such an entry says nothing
            ok = (bool(script_ids) and script_ids[0] in wanted) if wanted else not ids
            courtesy_ok += ok
        else:
            ok = not ids
            rejected += ok
        if not ok:
            errors.append(f"[{group}] {item['text']!r}: expected {item['expected']}, got "
                          f"{[(s.id, s.score) for s in result.scripts][:3]} "
                          f"{[p.id for p in result.policies]}")
    latencies = []
    if timed:
        for item in items:
            started = time.perf_counter()
            engine.suggest(item["text"])
            latencies.append((time.perf_counter() - started) * 1000)
    nq = max(groups["question"], 1)
    return Report(
        name=name, n_questions=groups["question"], recall1=hits1 / nq, recall3=hits3 / nq,
        mrr=rr / nq, courtesy_acc=courtesy_ok / max(groups["courtesy"], 1),
        n_courtesy=groups["courtesy"], offtopic_rejected=rejected / max(groups["offtopic"], 1),
        n_offtopic=groups["offtopic"], answered_questions=answered / nq,
        p50_ms=statistics.median(latencies) if latencies else 0.0,
        p95_ms=statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 20 else 0.0,
        errors=errors,
    )


def sweep(engine: Engine, items: list[dict]) -> None:
    """Grid over the gating knobs; prints the best settings by a combined objective."""
    grid = {
        "lexical_weight": [0.0, 0.2, 0.3, 0.4],
        "min_score": [0.35, 0.4, 0.45, 0.5, 0.55],
        "background_margin": [-0.05, 0.0, 0.02, 0.05, 0.08],
    }
    rows = []
    base = engine.retriever.config
    for values in itertools.product(*grid.values()):
        config = base.model_copy(update=dict(zip(grid, values, strict=True)))
        engine.retriever.config = config
        r = evaluate(engine, items, "sweep", timed=False)
        objective = r.recall1 + r.recall3 + r.offtopic_rejected + r.courtesy_acc
        rows.append((objective, values, r))
    engine.retriever.config = base
    for objective, values, r in sorted(rows, key=lambda x: x[0], reverse=True)[:10]:
        print(f"{objective:.3f} {dict(zip(grid, values, strict=True))} R@1 {r.recall1:.3f} "
              f"R@3 {r.recall3:.3f} off {r.offtopic_rejected:.3f} courtesy {r.courtesy_acc:.3f}")


def cross_validate(knowledge_dir: Path, folds: int, embedder, config: RetrievalConfig,
                   work: Path, show_errors: bool = False) -> None:
    """k-fold over example questions; an entry keeps at least one question in every fold."""
    entries = load_knowledge(knowledge_dir).entries
    rng = random.Random(0)
    assignment = {e.id: [rng.randrange(folds) for _ in e.questions] for e in entries}
    index_dir = work / "index"  # shared, so its vector cache embeds each text once
    totals = []
    for fold in range(folds):
        folder = work / f"fold-{fold}"
        held_out, kept_entries = [], []
        for entry in entries:
            keep = [q for q, f in zip(entry.questions, assignment[entry.id], strict=True)
                    if f != fold]
            out = [q for q, f in zip(entry.questions, assignment[entry.id], strict=True)
                   if f == fold]
            if entry.kind in ("script", "policy") and keep:
                held_out += [{"text": q, "expected": entry.id, "group": "question"} for q in out]
            else:
                keep = entry.questions
            kept_entries.append(entry.model_copy(update={"questions": keep}))
        folder.mkdir()
        data = [e.model_dump(exclude_defaults=True) for e in kept_entries]
        (folder / "entries.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
        if (knowledge_dir / "lists").is_dir():
            shutil.copytree(knowledge_dir / "lists", folder / "lists")
        build_index(folder, index_dir, embedder, progress=False)
        report = evaluate(open_engine(index_dir, embedder, config), held_out, f"fold {fold}",
                          timed=False)
        totals.append((len(held_out), report))
        if show_errors:
            print("\n".join("    " + e for e in report.errors))
        print(f"  fold {fold}: {len(held_out)} questions, R@1 {report.recall1:.3f} "
              f"R@3 {report.recall3:.3f} MRR {report.mrr:.3f}")
    n = sum(count for count, _ in totals)
    for name in ("recall1", "recall3", "mrr", "answered_questions"):
        value = sum(count * getattr(r, name) for count, r in totals) / n
        print(f"cv {name}: {value:.3f}")


# every message gets its ranking
UNGATED = {"min_score": -10.0, "background_margin": -10.0, "product_margin": 10.0}


def summary_line(gated: Report, ungated: Report) -> str:
    return (f"R@1 {gated.recall1:.3f}  R@3 {gated.recall3:.3f}  answered "
            f"{gated.answered_questions:.3f}  off-topic rejected {gated.offtopic_rejected:.3f} "
            f"({gated.n_offtopic})  courtesy right {gated.courtesy_acc:.3f} ({gated.n_courtesy})  "
            f"| ungated R@1 {ungated.recall1:.3f}  R@3 {ungated.recall3:.3f}")


def score_gated_and_ungated(index_dir: Path, embedder, config: RetrievalConfig,
                            items: list[dict], name: str,
                            show_errors: bool = False) -> tuple[Report, Report]:
    """The same index and ranking, once with the on-topic decision and once without any gate."""
    gated = evaluate(open_engine(index_dir, embedder, config), items, name, timed=False)
    ungated = evaluate(open_engine(index_dir, embedder, config.model_copy(update=UNGATED)),
                       items, name, timed=False)
    print(f"  {name} ({gated.n_questions} questions): {summary_line(gated, ungated)}")
    if show_errors:
        print("\n".join("    " + e for e in gated.errors))
    return gated, ungated


def thin_knowledge(knowledge_dir: Path, shots: int, seed: int,
                   out: Path) -> tuple[Path, list[dict]]:
    """Copy of the knowledge with at most ``shots`` example questions per script and policy.

    Returns the folder and the removed phrasings as labelled questions of their own entry
    (courtesy entries' removed phrasings are courtesy messages).
    """
    rng = random.Random(seed)
    removed: list[dict] = []
    thinned = []
    for entry in load_knowledge(knowledge_dir).entries:
        if entry.kind in ("script", "policy") and len(entry.questions) > shots:
            keep = set(rng.sample(range(len(entry.questions)), shots))
            group = "courtesy" if entry.is_courtesy else "question"
            removed += [{"text": q, "expected": entry.id, "group": group}
                        for n, q in enumerate(entry.questions) if n not in keep]
            entry = entry.model_copy(update={"questions": [
                q for n, q in enumerate(entry.questions) if n in keep]})
        thinned.append(entry.model_dump(exclude_defaults=True))
    out.mkdir(parents=True)
    (out / "entries.yaml").write_text(yaml.safe_dump(thinned, allow_unicode=True), "utf-8")
    if (knowledge_dir / "lists").is_dir():
        shutil.copytree(knowledge_dir / "lists", out / "lists")
    return out, removed


def run_shots(args: argparse.Namespace, embedder, config: RetrievalConfig, work: Path) -> None:
    folder, removed = thin_knowledge(args.knowledge, args.shots, args.seed, work / "thin")
    # library off: it would lend the thinned entries the shipped base's own phrasings back
    summary = build_index(folder, work / "index", embedder, progress=False, use_library=False)
    print(f"--shots {args.shots} (seed {args.seed}): {summary}")
    score_gated_and_ungated(work / "index", embedder, config, removed, "removed phrasings",
                            args.errors)
    for path in args.sets or DEFAULT_SETS:
        score_gated_and_ungated(work / "index", embedder, config, load_set(path), path.name,
                                args.errors)


def link_quality(links: dict, gold: dict[str, list[str]]) -> tuple[int, int, int]:
    """(right links, wrong links, gold links) of a build against the shop's gold labels."""
    right = wrong = 0
    for entry_id, entry_links in links.items():
        for link in entry_links:
            if link.library in gold.get(entry_id, []):
                right += 1
            else:
                wrong += 1
    return right, wrong, sum(len(v) for v in gold.values())


def run_shops(args: argparse.Namespace, embedder, config: RetrievalConfig, work: Path) -> None:
    """Every shop folder, without and with standard-library links, on one split."""
    totals = [0, 0, 0]
    for folder in shop_folders(args.shops):
        shop = load_shop(folder, work / "shops")
        items = [q for q in shop.questions if q.get("split") == args.split]
        for use_library in (False, True):
            index_dir = work / "index" / f"{shop.name}-{use_library}"
            summary = build_index(shop.knowledge, index_dir, embedder, progress=False,
                                  use_library=use_library)
            label = f"{shop.name} {args.split}, library {'on' if use_library else 'off'}"
            if use_library and not shop.gold_links:
                label += f", links {sum(len(v) for v in summary.links.values())} (no gold labels)"
            elif use_library:
                right, wrong, gold = link_quality(summary.links, shop.gold_links)
                totals = [totals[0] + right, totals[1] + wrong, totals[2] + gold]
                label += (f", links {right + wrong} (precision {right / max(right + wrong, 1):.2f}"
                          f", recall {right / max(gold, 1):.2f} of {gold} gold)")
            if use_library and args.errors:
                print("\n".join(summary.link_lines()))
            score_gated_and_ungated(index_dir, embedder, config, items, label, args.errors)
    right, wrong, gold = totals
    print(f"library links over the shops with gold labels: {right + wrong} proposed, {right} right: "
          f"precision {right / max(right + wrong, 1):.3f}, recall {right / max(gold, 1):.3f} ({gold} gold)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    parser.add_argument("--set", type=Path, action="append", dest="sets")
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--errors", action="store_true")
    parser.add_argument("--cv", type=int, metavar="K", help="k-fold over the example questions")
    parser.add_argument("--classifier-weight", type=float,
                        default=RetrievalConfig().classifier_weight)
    parser.add_argument("--relative-cutoff", type=float, default=RetrievalConfig().relative_cutoff)
    parser.add_argument("--shots", type=int, metavar="K",
                        help="thin the knowledge to K example questions per script and policy")
    parser.add_argument("--seed", type=int, default=0, help="which questions --shots keeps")
    parser.add_argument("--shops", type=Path, metavar="DIR",
                        help="score every shop folder under DIR (benchmarks/shops)")
    parser.add_argument("--split", choices=["dev", "test"], default="test",
                        help="which half of the shops' questions (tune on dev, report test)")
    args = parser.parse_args()

    embedder = shared_embedder("use")
    config = RetrievalConfig(classifier_weight=args.classifier_weight,
                             relative_cutoff=args.relative_cutoff)
    if args.shots is not None or args.shops:
        with tempfile.TemporaryDirectory() as tmp:
            if args.shots is not None:
                run_shots(args, embedder, config, Path(tmp))
            if args.shops:
                run_shops(args, embedder, config, Path(tmp))
        return
    if args.cv:
        with tempfile.TemporaryDirectory() as tmp:
            cross_validate(args.knowledge, args.cv, embedder, config, Path(tmp), args.errors)
        return
    with tempfile.TemporaryDirectory() as tmp:
        summary = build_index(args.knowledge, Path(tmp), embedder, progress=False)
        print(summary)
        engine = open_engine(Path(tmp), embedder, config)
        engine.suggest("预热")  # first call pays lazy model set-up
        for path in args.sets or DEFAULT_SETS:
            items = load_set(path)
            if args.sweep:
                sweep(engine, items)
                continue
            report = evaluate(engine, items, path.name)
            report.print()
            if args.errors:
                print("\n".join("    " + e for e in report.errors))


if __name__ == "__main__":
    main()
