"""``assist knowledge link DIR`` writes reviewed-ready ``like`` keys into hand-written YAML."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from assist.cli.knowledge_link import link
from assist.core.knowledge import load_knowledge

THIN_SHOP = (Path(__file__).parent / "fixtures" / "thin_shop" / "shop.yaml").read_text("utf-8")

# an entry whose admin turned links off, to show it is left alone
EXTRA = """
# a comment that must survive
- id: shop-invoice
  kind: script
  category: 发票
  title: 开发票
  reply: 亲,可以开电子发票,下单时填写抬头和税号即可~
  like: []
"""


def test_link_writes_like_keys_with_confidence_comments(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "shop.yaml").write_text(THIN_SHOP + EXTRA, "utf-8")
    before = (folder / "shop.yaml").read_text("utf-8")
    dry = CliRunner().invoke(link, [str(folder), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "shop-address -> change-address (0." in dry.output
    assert (folder / "shop.yaml").read_text("utf-8") == before
    result = CliRunner().invoke(link, [str(folder)])
    assert result.exit_code == 0, result.output
    text = (folder / "shop.yaml").read_text("utf-8")
    assert "# a comment that must survive" in text
    assert "  like: [change-address]  # 标准问题库链接(自动建议,请确认): change-address 0." in text
    entries = {e.id: e for e in load_knowledge(folder).entries}
    assert entries["shop-address"].like == ["change-address"]
    assert entries["shop-refund"].like == ["refund-when"]
    assert entries["shop-invoice"].like == []  # an admin's choice is never overwritten
    assert entries["shop-warranty"].like is None  # nothing confident: left to the build
    again = CliRunner().invoke(link, [str(folder)])
    assert again.exit_code == 0 and "0 entries linked" in again.output
    assert (folder / "shop.yaml").read_text("utf-8") == text
