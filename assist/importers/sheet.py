"""The common row model: every source file becomes tables of text rows, whatever its format.

A CSV file is one table; an XLSX workbook is one table per non-empty sheet. Rows keep the
number a spreadsheet shows (the header is row 1), so every error can point at a cell.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from assist.importers.encoding import decode_bytes
from assist.importers.errors import ImportRejected, SourceProblem

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
_DELIMITERS = (",", "\t", ";")
# "问题（必填）", "*答案", "Question [optional]": the notes templates put into headers.
_HEADER_NOTE = re.compile(r"[(（\[【].*?[)）\]】]|[*＊:：]")


@dataclass(frozen=True)
class Row:
    number: int  # as the spreadsheet shows it
    cells: tuple[str, ...]

    def get(self, column: int | None) -> str:
        if column is None or column >= len(self.cells):
            return ""
        return self.cells[column]

    @property
    def is_empty(self) -> bool:
        return not any(self.cells)


@dataclass
class Table:
    file: str
    sheet: str | None  # None for CSV
    rows: list[Row]
    encoding: str | None = None  # CSV only

    def problem(self, message: str, row: int | None = None, column: int | None = None,
                header: str | None = None) -> SourceProblem:
        return SourceProblem(self.file, message, row=row, sheet=self.sheet,
                             column=column_label(column, header) if column is not None else None)


def column_label(column: int, header: str | None = None) -> str:
    """'C (答案)' for the third column: the letter Excel shows, and the header when known."""
    letters, n = "", column + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"{letters} ({header})" if header else letters


def normalise_header(text: str) -> str:
    """Header cell to compare against known names: notes, markers, spaces and case removed."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", _HEADER_NOTE.sub("", text)).lower().replace("_", "")


def find_columns(header: Row, aliases: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """Map each role ('question', 'answer', ...) to the first header cell naming it."""
    wanted = {role: {normalise_header(a) for a in names} for role, names in aliases.items()}
    found: dict[str, int] = {}
    for index, cell in enumerate(header.cells):
        name = normalise_header(cell)
        for role, names in wanted.items():
            if role not in found and name in names:
                found[role] = index
                break
    return found


# What YAML cannot hold (and no reply needs): control characters but tab and newline, lone
# surrogates, U+FFFE/U+FFFF. Exports carry them (a NUL from a database dump, a vertical tab from
# Excel's line break in old files); kept, they made the written YAML unreadable.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


def clean_cell(text: str) -> str:
    """A cell as text: line ends unified, outer blanks, zero-width and control characters removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "").replace("\u200b", "")
    for line_break in ("\x0b", "\x85", "\u2028", "\u2029"):  # line breaks by other names
        text = text.replace(line_break, "\n")
    text = _UNWRITABLE.sub("", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def read_tables(path: Path) -> list[Table]:
    """The tables of a CSV or XLSX file; raise ImportRejected for unreadable files."""
    name = path.name
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ImportRejected([SourceProblem(str(path), "file not found")])
    if suffix in XLSX_SUFFIXES:
        return _read_xlsx(path)
    if suffix == ".xls":
        raise ImportRejected([SourceProblem(name, "the old Excel .xls format is not supported; "
                                                  "save the workbook as .xlsx or CSV")])
    if suffix not in CSV_SUFFIXES:
        raise ImportRejected([SourceProblem(name, f"unknown file type {suffix or '(none)'!r}; "
                                                  "expected .csv or .xlsx")])
    decoded = decode_bytes(path.read_bytes(), name)
    text = decoded.text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        rows = [Row(number, tuple(clean_cell(c) for c in cells))
                for number, cells in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise ImportRejected([SourceProblem(name, f"malformed CSV: {exc}",
                                            line=reader.line_num)]) from exc
    return [Table(name, None, _trim(rows), encoding=decoded.encoding)]


def _delimiter(text: str) -> str:
    """The separator of the first line (Excel writes ';' in some locales, tabs as 'Unicode text')."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_xlsx(path: Path) -> list[Table]:
    from openpyxl import load_workbook  # only needed for workbooks

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for damaged files
        raise ImportRejected([SourceProblem(
            path.name, f"unreadable XLSX workbook ({type(exc).__name__}: {exc})")]) from exc
    tables = []
    try:
        for sheet in workbook.worksheets:
            rows = [Row(number, tuple(_cell_text(v) for v in values))
                    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)]
            rows = _trim(rows)
            if rows:
                tables.append(Table(path.name, sheet.title, rows))
    except Exception as exc:  # noqa: BLE001
        raise ImportRejected([SourceProblem(
            path.name, f"unreadable XLSX workbook ({type(exc).__name__}: {exc})")]) from exc
    finally:
        workbook.close()
    return tables


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as 12 is stored as 12.0
    if isinstance(value, datetime | date):
        value = value.isoformat()
    return clean_cell(str(value))


def _trim(rows: list[Row]) -> list[Row]:
    """Drop trailing empty rows and trailing empty columns (spreadsheets pad both)."""
    while rows and rows[-1].is_empty:
        rows.pop()
    width = max((max((i + 1 for i, c in enumerate(r.cells) if c), default=0) for r in rows), default=0)
    return [Row(r.number, r.cells[:width]) for r in rows]


@dataclass
class Draft:
    """One entry read from a source row, before it gets its id."""

    table: Table
    row: int
    reply: str
    category: str
    title: str
    questions: list[str] = field(default_factory=list)
    code: str | None = None
    id_base: str = ""  # readable part of the id (a code slug) or '' for a content hash
    id_key: str = ""  # what the content hash is taken of
    exact: bool = False  # id_base is the code itself (wins a collision with lossy slugs)

    @property
    def where(self) -> str:
        sheet = f" sheet {self.table.sheet!r}" if self.table.sheet else ""
        return f"{self.table.file}{sheet} row {self.row}"


def split_questions(cell: str) -> list[str]:
    """Similar questions: one per line in the cell, or separated by '|' (also full-width '｜')."""
    parts = re.split(r"[\n|｜]", cell)
    return [" ".join(p.split()) for p in parts if p.strip()]


def unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out
