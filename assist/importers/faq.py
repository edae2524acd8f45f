"""FAQ sheets (CSV or XLSX): question, optional similar questions, answer, optional category.

The usual Chinese and English headers are recognised (``ALIASES``); a CSV without any of them
and with two columns is read as ``question,answer`` rows. The standard question is the
entry's identity (its id is a hash of it) and its title; the similar questions follow it in
``questions``.
"""

from __future__ import annotations

from assist.importers.errors import SourceProblem
from assist.importers.fields import category_from_group
from assist.importers.sheet import Draft, Row, Table, find_columns, split_questions, unique

HEADER = ("问题", "相似问题", "答案", "分类")
ALIASES = {
    "question": ("问题", "标准问题", "标准问", "标准问法", "常见问题", "question", "questions",
                 "standard question", "q", "faq"),
    "similar": ("相似问题", "相似问法", "相似问", "扩展问题", "扩展问", "扩展问法", "相似问题列表",
                "similar questions", "similar question", "similar", "alternatives", "paraphrases"),
    "answer": ("答案", "回复", "回答", "答复", "话术", "回复内容", "答案内容", "answer", "a", "reply",
               "response"),
    "category": ("分类", "分组", "类别", "类目", "问题分类", "category", "group", "topic"),
}


def matches(table: Table) -> bool:
    columns = find_columns(table.rows[0], ALIASES) if table.rows else {}
    return "question" in columns and "answer" in columns


def headerless(table: Table) -> bool:
    """A CSV of two columns whose first row names no known column: question,answer rows."""
    return (table.sheet is None and bool(table.rows) and not find_columns(table.rows[0], ALIASES)
            and max(len(r.cells) for r in table.rows) == 2)


def parse(table: Table) -> tuple[list[Draft], list[SourceProblem]]:
    names: dict[str, str | None]
    if headerless(table):
        columns, body = {"question": 0, "answer": 1}, table.rows
        names = {"question": None, "answer": None}
    else:
        header = table.rows[0]
        columns, body = find_columns(header, ALIASES), table.rows[1:]
        missing = [role for role in ("question", "answer") if role not in columns]
        if missing:
            return [], [table.problem(
                f"missing required column(s) {', '.join(missing)}: expected headers such as "
                f"{'/'.join(ALIASES['question'][:3])} and {'/'.join(ALIASES['answer'][:3])}; "
                f"found {', '.join(c for c in header.cells if c) or 'none'}", row=1)]
        names = {role: header.cells[i] for role, i in columns.items()}
    drafts: list[Draft] = []
    problems: list[SourceProblem] = []
    for row in body:
        if row.is_empty:
            continue
        draft = _draft(table, row, columns, names, problems)
        if draft:
            drafts.append(draft)
    return drafts, problems


def _draft(table: Table, row: Row, columns: dict[str, int], names: dict[str, str | None],
           problems: list[SourceProblem]) -> Draft | None:
    # A question cell with several lines: the first is the standard question.
    asked = split_questions(row.get(columns["question"]))
    answer = row.get(columns["answer"])
    if not asked:
        problems.append(table.problem("empty question", row.number, columns["question"],
                                      names["question"]))
    if not answer:
        problems.append(table.problem("empty answer", row.number, columns["answer"], names["answer"]))
    if not asked or not answer:
        return None
    similar = split_questions(row.get(columns.get("similar")))
    question = asked[0]
    return Draft(
        table=table, row=row.number, reply=answer,
        category=category_from_group(row.get(columns.get("category"))),
        title=question, questions=unique([*asked, *similar]), id_key=question,
    )
