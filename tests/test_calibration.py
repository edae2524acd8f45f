"""The on-topic gate is fitted per index version, stored in its manifest and used by retrieval."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from assist.core.embedders import Embedder
from assist.core.engine import open_engine
from assist.core.index import calibration
from assist.core.index.build import build_index
from assist.core.index.format import current_version_dir, read_manifest
from assist.core.index.load import load_index
from assist.core.retrieval import RetrievalConfig

THIN_SHOP = """
- id: ship-time
  kind: script
  category: 售中/发货
  title: 什么时候发货
  reply: 亲,下单后48小时内发货哦,节假日顺延~
- id: warranty
  kind: script
  category: 售后/保修
  title: 保修多久
  questions: [保修几年]
  reply: 亲,整机保修一年,电池保修半年,凭订单号就能保修~
- id: invoice
  kind: script
  category: 发票
  reply: 亲,可以开电子发票,下单时填写抬头和税号,发货后三天内发到您的邮箱~
"""


def _thin_shop(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "shop.yaml").write_text(THIN_SHOP, "utf-8")
    return folder


def test_calibration_is_stored_with_the_version_and_loaded(tmp_path: Path,
                                                           embedder: Embedder) -> None:
    build_index(_thin_shop(tmp_path), tmp_path / "idx", embedder, progress=False)
    manifest = read_manifest(current_version_dir(tmp_path / "idx"))
    fitted = manifest.calibration
    assert fitted is not None and fitted.method == "held-out phrasings"
    assert fitted.negatives > 100 and fitted.rejected is not None and fitted.rejected >= 0.9
    # no courtesy entries: every built-in acknowledgement joins the rejection class
    assert manifest.rejection["courtesy covered by entries"] == 0
    assert load_index(tmp_path / "idx").calibration == fitted


def test_a_thin_shop_answers_questions_and_rejects_acknowledgements(tmp_path: Path,
                                                                    embedder: Embedder) -> None:
    build_index(_thin_shop(tmp_path), tmp_path / "idx", embedder, progress=False)
    engine = open_engine(tmp_path / "idx", embedder)
    assert [s.id for s in engine.suggest("能开发票吗").scripts][:1] == ["invoice"]
    assert [s.id for s in engine.suggest("啥时候能发出来").scripts][:1] == ["ship-time"]
    for chat in ("好的", "谢谢", "今天天气怎么样"):
        assert engine.suggest(chat).scripts == [], chat


def test_a_configured_gate_overrides_the_fitted_one(tmp_path: Path, embedder: Embedder) -> None:
    build_index(_thin_shop(tmp_path), tmp_path / "idx", embedder, progress=False)
    engine = open_engine(tmp_path / "idx", embedder,
                         RetrievalConfig(min_score=-10.0, background_margin=-10.0))
    assert engine.suggest("今天天气怎么样").scripts  # no gate: everything gets its ranking


def test_fit_keeps_the_loosest_gate_that_rejects_the_target_share() -> None:
    rng = np.random.default_rng(0)
    topic = rng.normal(size=(1, 16))
    rows = topic + 0.3 * rng.normal(size=(40, 16))  # one tight cluster of phrasings
    chat = rng.normal(size=(60, 16))  # unrelated directions
    fitted = calibration.fit(rows, [f"q{i}" for i in range(40)], np.arange(40) // 10,
                             list(range(40)), chat, [f"c{i}" for i in range(60)])
    assert fitted.method == "held-out phrasings"
    assert fitted.rejected is not None and fitted.rejected >= 0.9
    assert fitted.answered is not None and fitted.answered >= 0.9
    no_phrasings = calibration.fit(rows, [f"q{i}" for i in range(40)], np.arange(40) // 10,
                                   [], chat, [f"c{i}" for i in range(60)])
    assert no_phrasings.method == "rejection only" and no_phrasings.rejected >= 0.9


def test_a_version_built_before_calibration_loads_with_the_old_gate(tmp_path: Path,
                                                                   embedder: Embedder) -> None:
    build_index(_thin_shop(tmp_path), tmp_path / "idx", embedder, progress=False)
    manifest_path = current_version_dir(tmp_path / "idx") / "manifest.json"
    data = json.loads(manifest_path.read_text("utf-8"))
    del data["calibration"]
    manifest_path.write_text(json.dumps(data), "utf-8")
    assert load_index(tmp_path / "idx").calibration == calibration.DEFAULT


def test_questions_about_goods_the_shop_does_not_sell_are_rejected(tmp_path: Path,
                                                                   embedder: Embedder) -> None:
    build_index(_thin_shop(tmp_path), tmp_path / "idx", embedder, progress=False)
    manifest = read_manifest(current_version_dir(tmp_path / "idx"))
    assert manifest.calibration is not None and manifest.calibration.product_margin is not None
    assert manifest.rejection["other products"] > 40
    engine = open_engine(tmp_path / "idx", embedder)
    for other in ("你们卖洗发水吗", "有没有卖狗粮的"):  # neither is listed in other_products.txt
        assert engine.suggest(other).scripts == [], other
    assert [s.id for s in engine.suggest("保修多长时间").scripts][:1] == ["warranty"]
    # with the channel off (a margin no message reaches) the same question is answered
    off = open_engine(tmp_path / "idx", embedder, RetrievalConfig(product_margin=10.0))
    assert off.suggest("你们卖洗发水吗").scripts or off.suggest("有没有卖狗粮的").scripts


def test_a_product_the_folder_mentions_leaves_the_product_class() -> None:
    from assist.core.index.build import sold_by_folder
    from assist.core.knowledge import Entry

    entries = [Entry(id="a", kind="script", category="售后/保修",
                     reply="亲,耳机和充电器都保修一年哦~")]
    sold = sold_by_folder([("你们卖耳机吗", ["耳机"]), ("你们卖空调吗", ["空调"])], entries)
    assert sold.tolist() == [True, False]
