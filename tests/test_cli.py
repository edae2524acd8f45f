import json
from pathlib import Path

from click.testing import CliRunner

from assist.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def run(*args: str, stdin: str | None = None):
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result


def test_suggest_json_is_the_api_object(small_index: Path) -> None:
    result = run("suggest", "都一个星期了还没收到货", "--index", str(small_index), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert set(payload) == {"scripts", "policies", "risks"}
    script = payload["scripts"][0]
    assert script["id"] == "logistics-delay"
    assert {"id", "category", "title", "reply", "score"} <= set(script)


def test_suggest_stdin_one_json_line_per_message(small_index: Path) -> None:
    result = run("suggest", "-", "--index", str(small_index), "--json",
                 stdin="能便宜点吗\n\n今天天气怎么样\n好的谢谢\n")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert len(lines) == 3
    assert lines[0]["scripts"][0]["id"] == "bargain"
    assert lines[1]["scripts"] == []
    assert lines[2]["scripts"][0]["id"] == "courtesy-bye"


def test_suggest_human_output(small_index: Path) -> None:
    result = run("suggest", "今天天气怎么样", "--index", str(small_index))
    assert result.exit_code == 0
    assert "无推荐话术" in result.output


def test_suggest_builds_a_missing_index(tmp_path: Path) -> None:
    result = run("suggest", "能便宜点吗", "--index", str(tmp_path / "new"),
                 "--knowledge", str(FIXTURES / "knowledge"), "--json")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new" / "CURRENT").is_file()
    assert json.loads(result.output.splitlines()[-1])["scripts"][0]["id"] == "bargain"


def test_suggest_with_broken_knowledge_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "a.yaml").write_text("- [", encoding="utf-8")
    result = run("suggest", "x", "--index", str(tmp_path / "i"), "--knowledge", str(tmp_path / "k"))
    assert result.exit_code == 1
    assert "malformed YAML" in result.output


def test_index_build_reads_the_config_file(tmp_path: Path, monkeypatch) -> None:
    """`assist index build` and its `assist-index` alias read ASSIST_CONFIG like every command."""
    from indexer.cli import main as alias

    config = tmp_path / "assist.toml"
    config.write_text(f'knowledge = "{FIXTURES / "knowledge"}"\nindex = "{tmp_path / "from-config"}"\n'
                      'embedder = "use"\n', encoding="utf-8")
    monkeypatch.setenv("ASSIST_CONFIG", str(config))
    for command, args in ((main, ["index", "build", "--quiet"]), (alias, ["build", "--quiet"])):
        result = CliRunner().invoke(command, args)
        assert result.exit_code == 0, result.output
        assert str(tmp_path / "from-config") in result.output
    assert (tmp_path / "from-config" / "CURRENT").is_file()


def test_help_defaults_come_from_the_settings() -> None:
    from assist.core.settings import Settings

    result = run("serve", "--help")
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert f"[env ASSIST_PORT; default {Settings().port}]" in flat
    assert Settings.model_fields["port"].description in flat


def test_suggest_says_when_the_index_is_older_than_the_knowledge(tmp_path: Path,
                                                                knowledge_dir: Path) -> None:
    index = tmp_path / "idx"
    assert run("index", "build", "--knowledge", str(knowledge_dir), "--out", str(index)).exit_code == 0
    fresh = run("suggest", "能便宜点吗", "--knowledge", str(knowledge_dir), "--index", str(index))
    assert fresh.exit_code == 0 and "changed since index" not in fresh.output
    extra = knowledge_dir / "presale" / "extra.yaml"
    extra.write_text("- id: gift-wrap\n  kind: script\n  category: 售前/包装\n"
                     "  reply: 亲,可以免费礼盒包装哦~\n", encoding="utf-8")
    stale = run("suggest", "能包装吗", "--knowledge", str(knowledge_dir), "--index", str(index))
    assert stale.exit_code == 0, stale.output
    assert "changed since index" in stale.output and f"--knowledge {knowledge_dir}" in stale.output


def test_bad_settings_are_one_clear_line(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text('knowlege = "typo"\n', encoding="utf-8")
    monkeypatch.setenv("ASSIST_CONFIG", str(config))
    result = run("index", "build")
    assert result.exit_code != 0
    assert "unknown setting 'knowlege'" in result.output and str(config) in result.output
    assert "Traceback" not in result.output and "pydantic.dev" not in result.output
    monkeypatch.delenv("ASSIST_CONFIG")
    monkeypatch.setenv("ASSIST_RETRIEVAL__TOP_K", "abc")
    result = run("suggest", "在吗")
    assert result.exit_code != 0 and "ASSIST_RETRIEVAL__TOP_K" in result.output
