"""The standard question library: packaged, fresh, linked at build time, pinned or disabled."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from assist.core.embedders import Embedder
from assist.core.engine import build_for, open_engine
from assist.core.index.build import build_index
from assist.core.index.format import current_version_dir, read_manifest
from assist.core.knowledge import Entry, KnowledgeError, load_knowledge
from assist.core.library import load_library
from assist.core.library.link import propose_links
from assist.core.settings import Settings

REPO = Path(__file__).parent.parent

THIN_SHOP = (REPO / "tests" / "fixtures" / "thin_shop" / "shop.yaml").read_text("utf-8")
NO_OWN_EXAMPLE = "我搬家了"  # nothing like it in the folder; the library has 我搬家了地址要改一下


def _shop(tmp_path: Path, text: str = THIN_SHOP) -> Path:
    folder = tmp_path / "shop"
    folder.mkdir(exist_ok=True)
    (folder / "shop.yaml").write_text(text, "utf-8")
    return folder


def test_packaged_library_is_fresh_from_the_shipped_knowledge() -> None:
    spec = importlib.util.spec_from_file_location("build_library", REPO / "scripts" / "build_library.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    packaged = (REPO / "assist" / "core" / "library" / "data" / "library.json").read_text("utf-8")
    assert packaged == module.generated(), "run python scripts/build_library.py"
    library = load_library()
    assert sum(len(e.questions) for e in library.entries) > 1500
    assert {e.kind for e in library.entries} == {"script", "policy"}


def test_links_are_proposed_for_matching_situations_only(tmp_path: Path,
                                                         embedder: Embedder) -> None:
    entries = load_knowledge(_shop(tmp_path)).entries
    links = propose_links(entries, load_library(), embedder.encode)
    assert [name for name, _ in links["shop-refund"]] == ["refund-when"]
    assert [name for name, _ in links["shop-address"]] == ["change-address"]
    assert all(0 < confidence <= 1 for pairs in links.values() for _, confidence in pairs)
    assert "shop-warranty" not in links  # the library has furniture warranty only


def test_a_bare_quick_phrase_links_by_its_reply(embedder: Embedder) -> None:
    # No title, no questions, a group shared with its neighbours: its reply is all it says.
    phrase = Entry(id="qn-gdz", kind="script", category="售后",
                   reply="亲,还没发货的订单可以帮您改收货地址,把新的地址、收件人和电话发给我就好~")
    links = propose_links([phrase], load_library(), embedder.encode)
    assert [name for name, _ in links["qn-gdz"]] == ["change-address"]


def test_a_question_without_own_example_is_answered_through_a_link(tmp_path: Path,
                                                                    embedder: Embedder) -> None:
    summary = build_index(_shop(tmp_path), tmp_path / "idx", embedder, progress=False)
    assert "shop-address" in summary.links and "standard library" in str(summary)
    assert any("shop-address -> change-address (0." in line for line in summary.link_lines())
    manifest = read_manifest(current_version_dir(tmp_path / "idx"))
    assert manifest.links["shop-address"][0].library == "change-address"
    assert manifest.links["shop-address"][0].confidence is not None
    engine = open_engine(tmp_path / "idx", embedder)
    rows = [r for r in engine.index.rows if r.field == "library"]
    assert rows and all(r.source for r in rows)  # borrowed rows say where they come from
    top = engine.suggest(NO_OWN_EXAMPLE).scripts[0]
    assert top.id == "shop-address" and top.matched_from == "change-address"
    assert json.loads(top.model_dump_json())["matched_from"] == "change-address"  # logged as is
    build_index(_shop(tmp_path), tmp_path / "alone", embedder, progress=False, use_library=False)
    alone = open_engine(tmp_path / "alone", embedder).suggest(NO_OWN_EXAMPLE).scripts
    assert not alone or alone[0].id != "shop-address"  # without the link it is not found


def test_like_empty_disables_and_a_list_pins(tmp_path: Path, embedder: Embedder) -> None:
    text = THIN_SHOP.replace("  category: 售中/改地址\n", "  category: 售中/改地址\n  like: []\n")
    text = text.replace("  questions: [保修几年]\n",
                        "  questions: [保修几年]\n  like: [furniture-warranty]\n")
    summary = build_index(_shop(tmp_path, text), tmp_path / "idx", embedder, progress=False)
    assert "shop-address" not in summary.links
    [pinned] = summary.links["shop-warranty"]
    assert pinned.library == "furniture-warranty" and pinned.pinned
    engine = open_engine(tmp_path / "idx", embedder)
    address = [i for i, e in enumerate(engine.index.entries) if e.id == "shop-address"][0]
    assert not [r for r in engine.index.rows if r.entry == address and r.field == "library"]


def test_like_naming_no_library_entry_is_an_error(tmp_path: Path, embedder: Embedder) -> None:
    text = THIN_SHOP.replace("  questions: [保修几年]\n", "  questions: [保修几年]\n  like: [no-such]\n")
    with pytest.raises(KnowledgeError, match="shop.yaml:.*no-such"):
        build_index(_shop(tmp_path, text), tmp_path / "idx", embedder, progress=False)
    assert not (tmp_path / "idx" / "CURRENT").exists()


def test_the_library_setting_turns_linking_off(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(knowledge=_shop(tmp_path), index=tmp_path / "idx", library=False)
    summary = build_for(settings)
    assert summary.links == {}
    assert read_manifest(current_version_dir(tmp_path / "idx")).library == 0
    engine = open_engine(tmp_path / "idx", embedder)
    assert not [r for r in engine.index.rows if r.field == "library"]


def test_a_script_with_no_questions_is_matched(tmp_path: Path, embedder: Embedder) -> None:
    build_index(_shop(tmp_path), tmp_path / "idx", embedder, progress=False, use_library=False)
    engine = open_engine(tmp_path / "idx", embedder)
    assert engine.suggest("退款几天能到账").scripts[0].id == "shop-refund"
    assert engine.suggest("地址填错了能改吗").scripts[0].id == "shop-address"
