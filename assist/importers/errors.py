"""Problems found in a source file, located by file, sheet, row and column."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceProblem:
    """One reason a file cannot be imported; rows are numbered as a spreadsheet shows them."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None  # "C (答案)": the letter an admin sees in Excel, and the header
    sheet: str | None = None
    line: int | None = None  # for decoding errors, where no row is known yet

    def __str__(self) -> str:
        where = [self.file]
        if self.sheet:
            where.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column:
            where.append(f"column {self.column}")
        return ", ".join(where) + f": {self.message}"


class ImportRejected(Exception):
    """The file cannot be imported; ``problems`` lists every reason. Nothing was written."""

    def __init__(self, problems: list[SourceProblem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s), nothing was written:\n"
                         + "\n".join(f"  {p}" for p in problems))
