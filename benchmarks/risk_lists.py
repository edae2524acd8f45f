"""Large threat-feed lists: import time, load time, memory and rule-stage latency.

    python benchmarks/risk_lists.py [--hosts 100000]

Writes a synthetic feed of N distinct hosts (random labels under common and cheap TLDs, a
tenth of them as URLhaus-style CSV rows with paths), imports it with ``assist risk lists
update``'s code into a temporary knowledge ``lists/``, loads the detector from it (what each
re-index and service start does) and times the rule stage on the labelled sets' messages,
with and without the big list. Timings depend on the machine and how busy it is: the figures
are medians of ``--rounds`` repeats.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assist.core.risk import detector_for_lists  # noqa: E402
from assist.core.risk.feeds import update_feed_list  # noqa: E402
from assist.core.risk.lists import load_lists  # noqa: E402
from benchmarks.risk import DATA, load_set  # noqa: E402

TLDS = ("com", "net", "org", "top", "xyz", "cn", "info", "shop", "ru", "online", "co.uk", "de")


def synthetic_feed(path: Path, n: int, seed: int = 12) -> None:
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    seen: set[str] = set()
    lines = ["# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter"]
    while len(seen) < n:
        label = "".join(rng.choice(letters) for _ in range(rng.randint(6, 14)))
        host = (f"{rng.choice(['www.', 'login.', 'cdn.', ''])}{label}.{rng.choice(TLDS)}")
        if host in seen:
            continue
        seen.add(host)
        if len(seen) % 10 == 0:
            lines.append(f'"{len(seen)}","2026-04-01","http://{host}/dl/x.exe","online","",'
                         f'"malware_download","exe","https://urlhaus.abuse.ch/url/{len(seen)}/","r"')
        else:
            lines.append(host)
    path.write_text("\n".join(ln for ln in lines[1:] if not ln.startswith('"')) + "\n",
                    encoding="utf-8")
    path.with_suffix(".csv").write_text(
        "\n".join(lines[:1] + [ln for ln in lines[1:] if ln.startswith('"')]) + "\n",
        encoding="utf-8")


def timed(fn, rounds: int) -> tuple[float, object]:  # noqa: ANN001
    times, result = [], None
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def rule_latency(detector, messages: list[str], rounds: int) -> tuple[float, float]:  # noqa: ANN001
    for text in messages:
        detector.rule_risks(text)
    samples = []
    for text in messages:
        runs = []
        for _ in range(rounds):
            start = time.perf_counter()
            detector.rule_risks(text)
            runs.append((time.perf_counter() - start) * 1000)
        samples.append(statistics.median(runs))
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.99 * len(samples)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    messages = [item.text for name in ("risk_set.jsonl", "risk_pretexts.jsonl",
                                       "risk_benign.jsonl") for item in load_set(DATA / name)]
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "feed.txt"
        synthetic_feed(feed, args.hosts)
        lists = Path(tmp) / "knowledge" / "lists"

        def run_import():  # noqa: ANN202
            return update_feed_list(lists, [feed, feed.with_suffix(".csv")], replace=True)

        seconds, summary = timed(run_import, args.rounds)
        print(f"import ({args.hosts} hosts: plain list + URLhaus CSV): median {seconds:.3f} s; "
              f"{summary}")
        seconds, loaded = timed(lambda: load_lists(lists), args.rounds)
        print(f"load_lists (each re-index / service start): median {seconds:.3f} s, "
              f"{len(loaded.block)} block hosts")
        del loaded
        gc.collect()
        tracemalloc.start()
        big = detector_for_lists(lists)
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"memory of a detector with these lists: {current / 2**20:.1f} MiB "
              f"(peak while loading {peak / 2**20:.1f} MiB)")
        small = detector_for_lists(None)
        for label, detector in (("built-in lists", small), (f"+{args.hosts} hosts", big)):
            median, p99 = rule_latency(detector, messages, args.rounds)
            print(f"rule stage, {label}: median {median:.3f} ms, p99 {p99:.3f} ms "
                  f"({len(messages)} messages)")
        listed = next(h for h in feed.read_text().splitlines()[1:] if h)
        (risk,) = [r for r in big.rule_risks(f"看下这个 http://{listed}/item")
                   if r.type == "phishing_link"]
        print(f"check: a listed host is flagged by {risk.rule} ({risk.severity})")


if __name__ == "__main__":
    main()
