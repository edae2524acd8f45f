"""MaxKB's segment sheet: ``分段标题`` (title, optional), ``分段内容`` (the answer), ``问题``
(questions, one a line). MaxKB's template puts notes into the headers ("分段内容（必填…）"),
which header matching ignores. A segment's identity is its title, else its first question,
else its content.
"""

from __future__ import annotations

from assist.importers.errors import SourceProblem
from assist.importers.fields import category_from_group, title_from_reply
from assist.importers.sheet import Draft, Table, find_columns, split_questions, unique

HEADER = ("分段标题", "分段内容", "问题")
ALIASES = {
    "title": ("分段标题", "标题", "title"),
    "content": ("分段内容", "content"),
    "questions": ("问题", "关联问题", "questions", "problems"),
    "category": ("分类", "分组", "category"),
}


def matches(table: Table) -> bool:
    return bool(table.rows) and "content" in find_columns(table.rows[0], ALIASES)


def parse(table: Table) -> tuple[list[Draft], list[SourceProblem]]:
    header = table.rows[0]
    columns = find_columns(header, ALIASES)
    if "content" not in columns:
        return [], [table.problem(f"no 分段内容 column: expected the headers {','.join(HEADER)}", row=1)]
    drafts: list[Draft] = []
    problems: list[SourceProblem] = []
    for row in table.rows[1:]:
        if row.is_empty:
            continue
        content = row.get(columns["content"])
        if not content:
            problems.append(table.problem("empty 分段内容", row.number, columns["content"],
                                          header.cells[columns["content"]]))
            continue
        title = " ".join(row.get(columns.get("title")).split())
        questions = unique(split_questions(row.get(columns.get("questions"))))
        category = category_from_group(row.get(columns.get("category")))
        drafts.append(Draft(
            table=table, row=row.number, reply=content, category=category,
            title=title or (questions[0] if questions else title_from_reply(content, "导入")),
            questions=questions, id_key=title or (questions[0] if questions else content),
        ))
    return drafts, problems
