"""Personal-data masking on a blind corpus (a benchmark, not a test).

Sets (written by someone who never saw the masking rules; see benchmarks/data/README.md):

- ``pii_values.jsonl``: buyer messages holding personal data; ``values`` are exact substrings
  that must disappear, ``classes`` their classes (parallel lists); some lines also ``keep`` an
  order number that must survive.
- ``pii_clean.jsonl``: messages with no personal data; every ``keep`` substring (prices, sizes,
  quantities, dates, order and tracking numbers, models...) must survive verbatim.

Each line has a ``split`` (``dev`` | ``test``, fixed by a hash of the text). The rules were tuned
on ``dev`` only; ``test`` is the figure to report.

A value counts as masked when the masked text contains neither the value nor, for values with
five or more digits, its digit run (after NFKC, Chinese digits read as digits, and spaces, dashes,
dots and NBSPs removed on both sides). A keep counts as false-masked when it does not survive
verbatim.

    python benchmarks/masking.py              # per class and per kind, dev and test
    python benchmarks/masking.py --errors     # list misses and false masks (dev only unless --all)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assist.logstore.masking import mask  # noqa: E402

DATA = REPO / "benchmarks" / "data"
_CN_DIGITS = str.maketrans("零〇一二三四五六七八九幺两", "0012345678912")
_SEPARATORS = re.compile(r"[\s\-.\u00a0\u3000－。·]")


def _digits_view(text: str) -> str:
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text).translate(_CN_DIGITS))


def value_masked(value: str, masked: str) -> bool:
    if value in masked:
        return False
    digits = "".join(re.findall(r"\d", _digits_view(value)))
    return len(digits) < 5 or digits not in _digits_view(masked)


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--values", type=Path, default=DATA / "pii_values.jsonl")
    parser.add_argument("--clean", type=Path, default=DATA / "pii_clean.jsonl")
    parser.add_argument("--errors", action="store_true", help="list misses and false masks")
    parser.add_argument("--all", action="store_true", help="with --errors: the test split too")
    args = parser.parse_args()
    values, clean = load(args.values), load(args.clean)

    for split in ("dev", "test"):
        hit: Counter[str] = Counter()
        total: Counter[str] = Counter()
        kept: Counter[str] = Counter()
        keeps: Counter[str] = Counter()
        errors: list[str] = []
        for row in (r for r in values if r["split"] == split):
            out = mask(row["text"])
            for value, cls in zip(row["values"], row["classes"], strict=True):
                total[cls] += 1
                if value_masked(value, out):
                    hit[cls] += 1
                else:
                    errors.append(f"  MISS {cls:9} {value!r}\n      in  {row['text']!r}\n      out {out!r}")
            for keep, kind in zip(row.get("keep", []), row.get("keep_kinds", []), strict=True):
                keeps[kind] += 1
                if keep in out:
                    kept[kind] += 1
                else:
                    errors.append(f"  LOST {kind:9} {keep!r}\n      in  {row['text']!r}\n      out {out!r}")
        for row in (r for r in clean if r["split"] == split):
            out = mask(row["text"])
            for keep, kind in zip(row["keep"], row["kinds"], strict=True):
                keeps[kind] += 1
                if keep in out:
                    kept[kind] += 1
                else:
                    errors.append(f"  LOST {kind:9} {keep!r}\n      in  {row['text']!r}\n      out {out!r}")
        n_values, n_hit = sum(total.values()), sum(hit.values())
        n_keeps, n_lost = sum(keeps.values()), sum(keeps.values()) - sum(kept.values())
        print(f"== {split}: {n_hit}/{n_values} personal values masked ({n_hit / n_values:.1%}); "
              f"{n_lost}/{n_keeps} non-personal keeps masked ({n_lost / n_keeps:.2%})")
        print("   masked share by class: " + ", ".join(
            f"{cls} {hit[cls]}/{total[cls]} ({hit[cls] / total[cls]:.0%})" for cls in sorted(total)))
        lost = {kind: keeps[kind] - kept[kind] for kind in keeps if keeps[kind] > kept[kind]}
        print("   false masks by kind: " + (", ".join(f"{k} {v}/{keeps[k]}" for k, v in sorted(lost.items()))
                                              or "none"))
        if args.errors and (split == "dev" or args.all):
            print("\n".join(errors))


if __name__ == "__main__":
    main()
