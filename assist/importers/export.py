"""``export_knowledge``: the script entries of a knowledge folder as a spreadsheet, so a team
can edit in Excel and import the file again.

- ``qianniu``: ``快捷短语编码,快捷短语,快捷短语分组`` (code, reply, category as ``A=>B``), the
  file 千牛 itself imports; example questions have no place in it;
- ``faq``: ``问题,相似问题,答案,分类`` (the first question, or the title for a script without
  questions; the other questions one a line; reply; category).

CSV is written as UTF-8 with a BOM, which Excel opens correctly; a ``.xlsx`` name writes a
workbook (FAQ only). Importing the export again gives the same entries (tested).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assist.core.knowledge import Entry, load_knowledge
from assist.importers import faq, qianniu
from assist.importers.fields import DEFAULT_CATEGORY, group_from_category

EXPORT_FORMATS = ("qianniu", "faq")


@dataclass(frozen=True)
class ExportReport:
    target: Path
    format: str
    rows: int
    skipped: int  # entries that are not scripts

    def __str__(self) -> str:
        return (f"{self.rows} scripts -> {self.target} ({self.format})"
                + (f"; {self.skipped} policy/risk entries left out" if self.skipped else ""))


def export_rows(entries: Sequence[Entry], fmt: str) -> list[list[str]]:
    """Header and one row per script entry."""
    scripts = [e for e in entries if e.kind == "script"]
    reply = [e.reply or "" for e in scripts]
    if fmt == "qianniu":
        return [list(qianniu.HEADER)] + [
            [e.code or "", r, group_from_category(e.category)] for e, r in zip(scripts, reply, strict=True)]
    if fmt == "faq":
        return [list(faq.HEADER)] + [
            [e.questions[0] if e.questions else e.display_title, "\n".join(e.questions[1:]), r,
             "" if e.category == DEFAULT_CATEGORY else e.category]
            for e, r in zip(scripts, reply, strict=True)]
    raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")


def export_knowledge(knowledge: Path, target: Path, fmt: str, only: Path | None = None) -> ExportReport:
    """Write the scripts of ``knowledge`` (or of its file/folder ``only``) to ``target``."""
    loaded = load_knowledge(Path(knowledge))
    entries = loaded.entries
    if only is not None:
        wanted = (Path(knowledge) / only).resolve() if not Path(only).is_absolute() else Path(only)
        entries = [e for e in entries if _under(Path(knowledge) / loaded.sources[e.id][0], wanted)]
    rows = export_rows(entries, fmt)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix.lower() == ".xlsx":
        _write_xlsx(target, rows)
    else:
        out = io.StringIO(newline="")
        csv.writer(out).writerows(rows)
        target.write_bytes(out.getvalue().encode("utf-8-sig"))
    return ExportReport(target, fmt, len(rows) - 1, sum(e.kind != "script" for e in entries))


def _under(path: Path, wanted: Path) -> bool:
    resolved = path.resolve()
    return resolved == wanted or wanted in resolved.parents


def _write_xlsx(target: Path, rows: list[list[str]]) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("FAQ")
    for row in rows:
        sheet.append(row)
    workbook.save(target)
