"""Regenerate the packaged standard question library from the shipped knowledge base.

    python scripts/build_library.py            # writes assist/core/library/data/library.json
    python scripts/build_library.py --check    # exit 1 when the packaged file is stale

tests/test_library.py runs the check, so a knowledge edit without a regenerated library fails.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assist.core.knowledge import load_knowledge  # noqa: E402
from assist.core.library import LIBRARY_FILE, library_from_entries  # noqa: E402

TARGET = REPO / "assist" / "core" / "library" / LIBRARY_FILE


def generated(knowledge: Path = REPO / "knowledge") -> str:
    return library_from_entries(load_knowledge(knowledge).entries).to_json()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args()
    text = generated()
    if args.check:
        fresh = TARGET.is_file() and TARGET.read_text("utf-8") == text
        print("library is up to date" if fresh else f"{TARGET} is stale: run {__file__}")
        return 0 if fresh else 1
    TARGET.write_text(text, "utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
