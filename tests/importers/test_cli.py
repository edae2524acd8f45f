from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from assist.cli import main

from .conftest import QIANNU_HEADER, QIANNU_ROWS, read_yaml, write_csv


def test_import_then_export_through_the_cli(qianniu_csv: Path, folder: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["knowledge", "import", str(qianniu_csv), "--knowledge", str(folder)])
    assert result.exit_code == 0, result.output
    assert "5 new" in result.output and "assist index build" in result.output
    assert len(read_yaml(folder / "imported" / "phrases.yaml")) == 5
    again = runner.invoke(main, ["knowledge", "import", str(qianniu_csv), "--knowledge", str(folder)])
    assert again.exit_code == 0, again.output
    assert "5 unchanged" in again.output and "nothing written (no changes)" in again.output
    out = tmp_path / "back.csv"
    result = runner.invoke(main, ["knowledge", "export", "--format", "qianniu", str(out),
                                  "--knowledge", str(folder), "--only", "imported"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == qianniu_csv.read_bytes()


def test_cli_import_options_and_errors(src: Path, folder: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    bad = write_csv(src / "bad.csv", [QIANNU_HEADER, ["x", "", ""]])
    result = runner.invoke(main, ["knowledge", "import", str(bad), "--knowledge", str(folder)])
    assert result.exit_code == 1
    assert "bad.csv, row 2, column B (快捷短语): empty phrase" in result.output
    good = write_csv(src / "good.csv", [QIANNU_HEADER, *QIANNU_ROWS])
    out = tmp_path / "elsewhere"
    result = runner.invoke(main, ["knowledge", "import", str(good), "--format", "qianniu",
                                  "--out", str(out), "--id-prefix", "beauty", "--knowledge", str(folder)],
                           env={"ASSIST_KNOWLEDGE": str(folder)})
    assert result.exit_code == 0, result.output
    assert read_yaml(out / "good.yaml")[0]["id"] == "beauty-hi"
    result = runner.invoke(main, ["knowledge", "import", str(good), "--knowledge", str(folder),
                                  "--dry-run"])
    assert result.exit_code == 0, result.output
    assert not (folder / "imported").exists()


def test_import_writes_library_links_and_reimport_keeps_them(tmp_path: Path, folder: Path) -> None:
    """Quick phrases get reviewed `like:` proposals with their confidence; a re-import changes nothing."""
    rows = [QIANNU_HEADER, ["th", "亲，支持七天无理由退换，请保持吊牌完好", "售后=>退换"],
            ["zz", "亲，本店的猫咪很可爱哦", ""]]
    path = write_csv(tmp_path / "shop.csv", rows)
    runner = CliRunner()
    first = runner.invoke(main, ["knowledge", "import", str(path), "--knowledge", str(folder)])
    assert first.exit_code == 0, first.output
    text = (folder / "imported" / "shop.yaml").read_text(encoding="utf-8")
    assert "like: [seven-day-guarantee]  # 0." in text
    again = runner.invoke(main, ["knowledge", "import", str(path), "--knowledge", str(folder)])
    assert "nothing written (no changes)" in again.output, again.output
    assert (folder / "imported" / "shop.yaml").read_text(encoding="utf-8") == text
