"""Row hashing and nearest-neighbour search between two tables, for duplicate detection.

Rows are put on one scale before any distance is taken: numeric columns are centred on the
median and divided by the interquartile range of the reference (robust to outliers), missing
values become their own coordinate (a column whose middle half is one value, IQR below 0.1% of
its SD, is divided by its SD instead), and each categorical column is one-hot encoded with weight
``1/sqrt(2)`` per differing pair so that a changed category costs as much as one IQR.

A *near* duplicate is a pair closer than a threshold calibrated on the reference itself: the
1% quantile of the nearest-neighbour distances between distinct reference rows. The rate of
such pairs inside the reference is the rate expected between an honest train and test split
drawn from the same population; a test set with many more was copied from train.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: A near duplicate is closer than this quantile of the nearest-neighbour distances in train.
NEAR_QUANTILE = 0.01
MAX_ONEHOT = 50
#: An interquartile range below this share of the standard deviation is treated as 0.
SPIKE = 1e-3


def hash_rows(df: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row over the given columns (values, not the index).

    Examples
    --------
    >>> import pandas as pd
    >>> h = hash_rows(pd.DataFrame({"a": [1, 2, 1], "b": ["x", "y", "x"]}))
    >>> bool(h[0] == h[2]), bool(h[0] == h[1])
    (True, False)
    """
    return pd.util.hash_pandas_object(df.reset_index(drop=True), index=False).to_numpy()


def encode_rows(
    reference: pd.DataFrame, others: list[pd.DataFrame], numeric: list[str], categorical: list[str]
) -> list[np.ndarray]:
    """Put ``reference`` and ``others`` on the reference's scale, as float32 matrices.

    Examples
    --------
    >>> import pandas as pd
    >>> ref = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0], "c": list("aabbc")})
    >>> a, b = encode_rows(ref, [ref.head(2)], ["x"], ["c"])
    >>> a.shape, b.shape
    ((5, 5), (2, 5))
    """
    parts: list[list[np.ndarray]] = [[] for _ in range(1 + len(others))]
    frames = [reference, *others]
    for col in numeric:
        ref = pd.to_numeric(reference[col], errors="coerce").to_numpy(dtype=float)
        finite = ref[np.isfinite(ref)]
        if finite.size == 0:
            continue
        q1, med, q3 = np.quantile(finite, [0.25, 0.5, 0.75])
        scale = q3 - q1
        sd = float(np.std(finite))
        if scale <= SPIKE * sd or scale <= 0:
            # the middle half is (almost) one value, e.g. a sparse column of zeros with a few
            # tiny ones: an IQR of ~0 would turn those specks into large distances
            scale = sd or 1.0
        has_missing = any(f[col].isna().any() for f in frames)
        for i, f in enumerate(frames):
            v = (pd.to_numeric(f[col], errors="coerce").to_numpy(dtype=float) - med) / scale
            miss = ~np.isfinite(v)
            parts[i].append(np.where(miss, 0.0, v))
            if has_missing:
                parts[i].append(miss.astype(float))
    w = 1 / np.sqrt(2)
    for col in categorical:
        top = pd.Index(reference[col].astype(str).value_counts().index[:MAX_ONEHOT])
        for i, f in enumerate(frames):
            codes = top.get_indexer(f[col].astype(str))  # -1 for categories outside the top
            onehot = np.zeros((len(f), len(top) + 1))
            onehot[np.arange(len(f)), np.where(codes < 0, len(top), codes)] = w
            parts[i].append(onehot)
    out = []
    for i, f in enumerate(frames):
        cols = [p if p.ndim == 2 else p[:, None] for p in parts[i]]
        mat = np.hstack(cols) if cols else np.zeros((len(f), 0))
        out.append(np.ascontiguousarray(mat, dtype=np.float32))
    return out


@dataclass(frozen=True)
class Neighbours:
    """For each query row, its nearest reference row and the distance to it."""

    distance: np.ndarray
    index: np.ndarray


def nearest(
    reference: np.ndarray,
    query: np.ndarray,
    *,
    exclude_self: bool = False,
    query_rows: np.ndarray | None = None,
) -> Neighbours:
    """The nearest reference row of every query row (Euclidean), with a KD-tree.

    With ``exclude_self`` the query rows are reference rows (``query_rows`` gives their
    positions when the query is a subset) and a row is not its own neighbour.

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.array([[0.0], [1.0], [5.0]])
    >>> nb = nearest(ref, np.array([[0.9], [4.0]]))
    >>> nb.index.tolist(), np.round(nb.distance, 2).tolist()
    ([1, 2], [0.1, 1.0])
    """
    from sklearn.neighbors import NearestNeighbors

    k = 2 if exclude_self else 1
    # trees beat brute force only in few dimensions; brute force is chunked BLAS
    algorithm = "kd_tree" if reference.shape[1] <= 12 else "brute"
    nn = NearestNeighbors(n_neighbors=k, algorithm=algorithm).fit(reference)
    dist, idx = nn.kneighbors(query)
    if exclude_self:
        self_first = idx[:, 0] == (np.arange(len(query)) if query_rows is None else query_rows)
        dist = np.where(self_first, dist[:, 1], dist[:, 0])
        idx = np.where(self_first, idx[:, 1], idx[:, 0])
    else:
        dist, idx = dist[:, 0], idx[:, 0]
    return Neighbours(distance=dist.astype(float), index=idx.astype(np.int64))


def near_threshold(within: np.ndarray, quantile: float = NEAR_QUANTILE) -> float:
    """The near-duplicate distance: the ``quantile`` of the non-zero within-reference
    nearest-neighbour distances (a pair closer than 99% of rows are to their own neighbour).

    Examples
    --------
    >>> import numpy as np
    >>> near_threshold(np.array([0.0, 1.0, 2.0, 3.0, 4.0]), quantile=0.25)
    1.75
    """
    positive = within[within > 0]
    if positive.size == 0:
        return 0.0
    return float(np.quantile(positive, quantile))


class ClusteredNeighbours:
    """Nearest-neighbour search among the reference rows of the k-means cells nearest to
    each query (an inverted-file index), with exact distances to those candidates.

    The reference is cut into about ``sqrt(n)`` k-means cells; a query is compared with the
    rows of its ``probes`` nearest cells only, by blocks of matrix products. A copy or a
    slightly moved copy of a reference row falls in that row's cell, so planted copies are
    found with certainty; a neighbour near a cell border can be missed, which is why the
    recall is measured (:meth:`query` on reference rows against an exact search) by the
    caller. With ``probes`` equal to the number of cells the search is exact.

    Parameters
    ----------
    n_clusters
        Number of cells; ``None`` for ``round(sqrt(n))``.
    probes
        Cells searched per query; ``None`` for a fifth of the cells (at least 8).
    random_state
        Seed of the k-means fit.

    References
    ----------
    Jegou, H., Douze, M. and Schmid, C. (2011). Product quantization for nearest neighbor
    search. IEEE Transactions on Pattern Analysis and Machine Intelligence 33(1), 117-128
    (the inverted-file search, IVF).

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.random.default_rng(0).normal(size=(2000, 5)).astype(np.float32)
    >>> index = ClusteredNeighbours(random_state=0).fit(ref)
    >>> nb = index.query(ref[:3] + 1e-3)
    >>> nb.index.tolist(), bool(nb.distance.max() < 0.01)
    ([0, 1, 2], True)
    """

    #: Largest block of distances computed at once (entries), to bound memory.
    BLOCK = 4_000_000

    def __init__(
        self, n_clusters: int | None = None, probes: int | None = None, random_state: int = 0
    ) -> None:
        self.n_clusters = n_clusters
        self.probes = probes
        self.random_state = random_state

    def fit(self, reference: np.ndarray) -> ClusteredNeighbours:
        from sklearn.cluster import KMeans

        ref = np.ascontiguousarray(reference, dtype=np.float32)
        n = len(ref)
        k = self.n_clusters or int(round(np.sqrt(n)))
        k = int(min(max(k, 1), n))
        rng = np.random.default_rng(self.random_state)
        # cells need only be roughly right: fit them on a sample of 20 rows per cell
        fit_rows = ref[rng.choice(n, min(n, 20 * k), replace=False)]
        km = KMeans(k, n_init=1, max_iter=20, random_state=self.random_state).fit(fit_rows)
        self.centers_ = km.cluster_centers_.astype(np.float32)
        cell = self._nearest_cells(ref, 1)[:, 0]
        self.order_ = np.argsort(cell, kind="stable")
        self.bounds_ = np.searchsorted(cell[self.order_], np.arange(k + 1))
        self.sorted_ = ref[self.order_]
        self.sqnorm_ = np.einsum("ij,ij->i", self.sorted_, self.sorted_)
        self.probes_ = int(min(k, self.probes or max(8, -(-k // 5))))
        return self

    def _nearest_cells(self, x: np.ndarray, k: int) -> np.ndarray:
        c = self.centers_
        out = np.empty((len(x), k), dtype=np.int64)
        step = max(1, self.BLOCK // len(c))
        for s in range(0, len(x), step):
            d = x[s : s + step] @ c.T
            d *= -2
            d += np.einsum("ij,ij->i", c, c)
            if k == 1:
                out[s : s + step, 0] = d.argmin(axis=1)
            elif k >= len(c):
                out[s : s + step] = np.arange(len(c))
            else:
                out[s : s + step] = np.argpartition(d, k - 1, axis=1)[:, :k]
        return out

    def query(self, query: np.ndarray, exclude: np.ndarray | None = None) -> Neighbours:
        """The nearest candidate of each query row; ``exclude`` gives, per query row, a
        reference position that may not be its neighbour (the row itself), or -1."""
        q = np.ascontiguousarray(query, dtype=np.float32)
        m = len(q)
        best = np.full(m, np.inf, dtype=np.float32)
        arg = np.full(m, -1, dtype=np.int64)
        if m == 0:
            return Neighbours(distance=best.astype(float), index=arg)
        cells = self._nearest_cells(q, self.probes_)
        who = np.repeat(np.arange(m), cells.shape[1])
        cell = cells.ravel()
        by_cell = np.argsort(cell, kind="stable")
        who = who[by_cell]
        starts = np.searchsorted(cell[by_cell], np.arange(len(self.centers_) + 1))
        for j in range(len(self.centers_)):
            lo, hi = self.bounds_[j], self.bounds_[j + 1]
            if lo == hi or starts[j] == starts[j + 1]:
                continue
            members, norms = self.sorted_[lo:hi], self.sqnorm_[lo:hi]
            step = max(1, self.BLOCK // (hi - lo))
            for s in range(starts[j], starts[j + 1], step):
                rows = who[s : min(s + step, starts[j + 1])]
                # squared distance less the query's own norm, which does not change the argmin
                d = q[rows] @ members.T
                d *= -2
                d += norms
                if exclude is not None:
                    own = self.order_[lo:hi][None, :] == exclude[rows][:, None]
                    d[own] = np.inf
                i = d.argmin(axis=1)
                v = d[np.arange(len(rows)), i]
                better = v < best[rows]
                best[rows[better]] = v[better]
                arg[rows[better]] = lo + i[better]
        found = arg >= 0
        index = np.full(m, -1, dtype=np.int64)
        index[found] = self.order_[arg[found]]
        # exact distances of the chosen pairs, free of the cancellation in |a|^2 - 2ab + |b|^2
        dist = np.full(m, np.inf)
        diff = self.sorted_[arg[found]].astype(float) - q[found].astype(float)
        dist[found] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        return Neighbours(distance=dist, index=index)
