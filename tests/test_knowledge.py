from pathlib import Path

import pytest

from assist.core.knowledge import KnowledgeError, load_knowledge


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def problems(folder: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(folder)
    return [str(p) for p in info.value.problems]


SCRIPT = """\
- id: {id}
  kind: script
  category: 售前/尺码
  questions: [尺码准吗]
  reply: 标准码哦
"""


def test_fixture_folder_loads(knowledge_dir: Path) -> None:
    knowledge = load_knowledge(knowledge_dir)
    assert {e.kind for e in knowledge.entries} == {"script", "policy", "risk"}
    assert knowledge.sources["courtesy-bye"][0] == "courtesy/bye.yml"
    assert knowledge.by_kind("risk")[0].risk_type == "phishing_link"


def test_duplicate_id_across_files_names_both_places(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", SCRIPT.format(id="dup"))
    write(tmp_path, "sub/b.yml", "\n" + SCRIPT.format(id="dup"))
    [message] = problems(tmp_path)
    assert message.startswith("sub/b.yml:2 [dup]: duplicate id")
    assert "a.yaml:1" in message


def test_missing_and_empty_fields(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", """\
- id: no-reply
  kind: script
  category: 售前/尺码
  questions: [尺码准吗]
- id: empty-category
  kind: policy
  category: ""
  text: 规则
""")
    found = problems(tmp_path)
    assert any(m.startswith("a.yaml:1 [no-reply]") and "reply" in m for m in found)
    assert any(m.startswith("a.yaml:5 [empty-category]") and "category" in m for m in found)


def test_missing_id_reports_position(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "- kind: policy\n  category: 规则\n  text: x\n")
    [message] = problems(tmp_path)
    assert message == "a.yaml:1 [#1]: missing field 'id'"


def test_unknown_key_and_unknown_kind(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", """\
- id: typo
  kind: script
  category: 售前
  questions: [x]
  reply: y
  replly: z
- id: wrong-kind
  kind: faq
  category: 售前
""")
    found = problems(tmp_path)
    assert "a.yaml:1 [typo]: unknown key 'replly'" in found
    assert any(m.startswith("a.yaml:7 [wrong-kind]: kind:") for m in found)


def test_risk_entry_needs_its_fields(tmp_path: Path) -> None:
    write(tmp_path, "r.yaml", """\
- id: r1
  kind: risk
  category: 安全
  questions: [加我微信]
  reply: 平台内沟通
  risk_type: not_a_type
""")
    found = problems(tmp_path)
    assert any("risk_type" in m for m in found)


def test_malformed_yaml_reports_line(tmp_path: Path) -> None:
    write(tmp_path, "ok.yaml", SCRIPT.format(id="fine"))
    write(tmp_path, "bad.yaml", "- id: x\n  kind: script\n  questions: [unclosed\n")
    [message] = problems(tmp_path)
    assert message.startswith("bad.yaml:") and "malformed YAML" in message


def test_non_utf8_file(tmp_path: Path) -> None:
    write(tmp_path, "gbk.yaml", SCRIPT.format(id="gbk").encode("gbk"))
    [message] = problems(tmp_path)
    assert message.startswith("gbk.yaml: not UTF-8")


def test_top_level_must_be_a_list(tmp_path: Path) -> None:
    write(tmp_path, "map.yaml", "id: x\nkind: script\n")
    assert problems(tmp_path) == ["map.yaml:1: expected a list of entries at the top level"]


def test_bad_id_characters(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", SCRIPT.format(id="尺码 建议"))
    [message] = problems(tmp_path)
    assert "id" in message and "pattern" in message


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    assert "no entries" in problems(tmp_path)[0]


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "- id: a\n  kind: nope\n  category: x\n")
    write(tmp_path, "b.yaml", ": : :\n")
    write(tmp_path, "c.yaml", SCRIPT.format(id="ok"))
    assert len(problems(tmp_path)) == 2
