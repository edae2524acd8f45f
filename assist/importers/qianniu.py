"""千牛 (Qianniu) quick-phrase export: ``快捷短语编码,快捷短语,快捷短语分组``.

Each phrase is a reply without example questions. The shortcut code is what an agent types
to send it, so it is the phrase's identity: the entry id is derived from it, and two rows
with the same code are an error.
"""

from __future__ import annotations

from assist.core.knowledge import Entry
from assist.importers.errors import SourceProblem
from assist.importers.fields import category_from_group, title_from_reply
from assist.importers.sheet import Draft, Table, find_columns

MAX_CODE = next(m.max_length for m in Entry.model_fields["code"].metadata if hasattr(m, "max_length"))
HEADER = ("快捷短语编码", "快捷短语", "快捷短语分组")
ALIASES = {
    "code": ("快捷短语编码", "快捷编码", "短语编码", "编码"),
    "phrase": ("快捷短语", "短语内容", "快捷短语内容"),
    "group": ("快捷短语分组", "短语分组", "分组"),
}


def matches(table: Table) -> bool:
    return bool(table.rows) and "phrase" in find_columns(table.rows[0], ALIASES)


def parse(table: Table) -> tuple[list[Draft], list[SourceProblem]]:
    header = table.rows[0]
    columns = find_columns(header, ALIASES)
    if "phrase" not in columns:
        return [], [table.problem(f"no phrase column: expected the header {','.join(HEADER)}", row=1)]
    phrase_col, code_col, group_col = columns["phrase"], columns.get("code"), columns.get("group")
    drafts: list[Draft] = []
    problems: list[SourceProblem] = []
    first_row_of_code: dict[str, int] = {}
    for row in table.rows[1:]:
        if row.is_empty:
            continue
        phrase, code = row.get(phrase_col), " ".join(row.get(code_col).split())
        if not phrase:
            problems.append(table.problem("empty phrase", row.number, phrase_col, HEADER[1]))
            continue
        if len(code) > MAX_CODE:
            problems.append(table.problem(f"code longer than {MAX_CODE} characters",
                                          row.number, code_col, HEADER[0]))
            continue
        if code:
            if code in first_row_of_code:
                problems.append(table.problem(
                    f"duplicate code {code!r} (first in row {first_row_of_code[code]})",
                    row.number, code_col, HEADER[0]))
                continue
            first_row_of_code[code] = row.number
        category = category_from_group(row.get(group_col))
        drafts.append(Draft(
            table=table, row=row.number, reply=phrase, category=category,
            title=title_from_reply(phrase, fallback=category.rsplit("/", 1)[-1]),
            code=code or None, id_key=code or phrase, id_base=code,
        ))
    return drafts, problems
