from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from assist.core.embedders import Embedder
from assist.core.index import ann
from assist.core.index.build import build_index
from assist.core.index.load import EmbedderMismatch, IndexNotFound, current_version_dir, load_index
from assist.core.knowledge import KnowledgeError
from indexer.cli import main as index_cli

NEW_ENTRY = """
- id: color-diff
  kind: script
  category: 售前/色差
  questions: [实物有色差吗, 颜色和图片一样吗]
  reply: 亲,图片都是实物拍摄,会因显示器略有差异~
"""


def test_build_writes_a_self_describing_version(knowledge_dir: Path, tmp_path: Path,
                                                embedder: Embedder) -> None:
    summary = build_index(knowledge_dir, tmp_path / "idx", embedder, progress=False,
                          use_library=False)
    live = current_version_dir(tmp_path / "idx")
    assert live == summary.path and live.name == summary.version
    index = load_index(tmp_path / "idx", embedder.name)
    assert index.manifest.embedder == embedder.name
    assert index.manifest.dim == embedder.dim == index.ann.d
    assert index.manifest.entries == len(index.entries) == 6
    assert index.manifest.kinds == {"script": 4, "policy": 1, "risk": 1}
    # every question, title and policy text is a row; a script also has its category, reply
    # lead and reply clauses
    assert index.ann.ntotal == len(index.rows) == summary.vectors
    assert {r.field for r in index.rows} == {"question", "title", "text", "category", "reply",
                                             "clause"}
    assert index.background.shape[1] == embedder.dim


def test_rebuild_unchanged_is_a_no_op(knowledge_dir: Path, tmp_path: Path,
                                      embedder: Embedder) -> None:
    first = build_index(knowledge_dir, tmp_path / "idx", embedder, progress=False)
    again = build_index(knowledge_dir, tmp_path / "idx", embedder, progress=False)
    assert again.unchanged and again.version == first.version and again.embedded == 0


def test_incremental_build_embeds_only_new_texts(knowledge_dir: Path, tmp_path: Path,
                                                 embedder: Embedder) -> None:
    first = build_index(knowledge_dir, tmp_path / "idx", embedder, progress=False)
    with (knowledge_dir / "presale" / "basics.yaml").open("a", encoding="utf-8") as f:
        f.write(NEW_ENTRY)
    second = build_index(knowledge_dir, tmp_path / "idx", embedder, progress=False)
    assert second.version != first.version
    assert second.embedded == 6  # two questions, category, reply lead and its two clauses
    assert load_index(tmp_path / "idx").manifest.entries == 7


def test_failed_build_keeps_the_previous_index(knowledge_dir: Path, tmp_path: Path,
                                               embedder: Embedder) -> None:
    out = tmp_path / "idx"
    good = build_index(knowledge_dir, out, embedder, progress=False)
    (knowledge_dir / "broken.yaml").write_text("- id: x\n  kind: ???\n", encoding="utf-8")
    with pytest.raises(KnowledgeError):
        build_index(knowledge_dir, out, embedder, progress=False)
    assert current_version_dir(out) == good.path
    assert load_index(out).version == good.version
    assert not list(out.glob(".tmp-*"))


def test_crash_mid_write_leaves_no_visible_version(knowledge_dir: Path, tmp_path: Path,
                                                   embedder: Embedder,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "idx"
    good = build_index(knowledge_dir, out, embedder, progress=False)
    (knowledge_dir / "extra.yaml").write_text(NEW_ENTRY, encoding="utf-8")

    def explode(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("assist.core.index.build.ann.save", explode)
    with pytest.raises(OSError):
        build_index(knowledge_dir, out, embedder, progress=False)
    assert current_version_dir(out) == good.path
    assert [p.name for p in out.iterdir() if p.name.startswith("v-")] == [good.version]
    assert not list(out.glob(".tmp-*"))


def test_loading_with_another_embedder_is_a_clear_error(small_index: Path) -> None:
    with pytest.raises(EmbedderMismatch, match="rebuild the index"):
        load_index(small_index, "sentence-transformers:other-model")


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound, match="assist-index build"):
        load_index(tmp_path)


def test_ann_kind_is_chosen_by_size() -> None:
    assert ann.choose_kind(19_999) == "flat"
    assert ann.choose_kind(20_000) == "hnsw"


def test_hnsw_finds_the_same_neighbours_as_exact_search() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[:50] + 0.05 * rng.standard_normal((50, 64)).astype(np.float32)
    exact = ann.search(ann.build(vectors, "flat"), queries, 1)[1]
    hnsw_index = ann.build(vectors, "hnsw")
    hnsw_index.hnsw.efSearch = ann.HNSW_EF_SEARCH
    approx = ann.search(hnsw_index, queries, 1)[1]
    assert (exact == approx).mean() >= 0.95


def test_cli_build_and_validation_error(knowledge_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(index_cli, ["build", "--knowledge", str(knowledge_dir),
                                   "--out", str(tmp_path / "idx"), "--quiet"])
    assert ok.exit_code == 0, ok.output
    assert "6 entries" in ok.output
    (knowledge_dir / "bad.yaml").write_text("- id: a\n  kind: script\n", encoding="utf-8")
    bad = runner.invoke(index_cli, ["build", "--knowledge", str(knowledge_dir),
                                    "--out", str(tmp_path / "idx")])
    assert bad.exit_code == 1
    assert "bad.yaml:1 [a]: missing field 'category'" in bad.output


def test_a_script_without_questions_is_embedded_from_what_it_has():
    from assist.core.index.build import entry_rows, reply_lead
    from assist.core.knowledge import Entry

    quick = Entry(id="qn-gh1", kind="script", category="售前/版本",
                  reply="亲,我们家只卖国行,不卖港版和水货哦~国行享受全国联保,港版在大陆官方售后是不给保修的,"
                        "价格便宜很多的那种要慎重呢,买之前可以先问问我。")
    rows = entry_rows([quick])
    assert [(r.field, r.text) for r in rows] == [
        ("category", "版本"), ("reply", "我们家只卖国行,不卖港版和水货哦~"),
        ("clause", "我们家只卖国行,"), ("clause", "不卖港版和水货哦~"), ("clause", "国行享受全国联保,"),
        ("clause", "港版在大陆官方售后是不给保修的,"), ("clause", "价格便宜很多的那种要慎重呢,"),
        ("clause", "买之前可以先问问我。")]
    assert reply_lead("亲,好的~") == "好的~"
