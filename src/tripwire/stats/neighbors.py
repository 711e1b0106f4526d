"""Row hashing and nearest-neighbour search between two tables, for duplicate detection.

Rows are put on one scale before any distance is taken: numeric columns are centred on the
median and divided by the interquartile range of the reference (robust to outliers), missing
values become their own coordinate, and each categorical column is one-hot encoded with weight
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
        if scale <= 0:
            scale = float(np.std(finite)) or 1.0
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


def within_radius(reference: np.ndarray, query: np.ndarray, radius: float) -> Neighbours:
    """The nearest reference row of each query row when it lies within ``radius``; rows with
    none get distance ``inf`` and index -1. A small radius prunes a KD-tree well even in
    20 dimensions, so this is much faster than a full nearest-neighbour search.

    Examples
    --------
    >>> import numpy as np
    >>> nb = within_radius(np.array([[0.0], [1.0]]), np.array([[0.05], [0.5]]), 0.1)
    >>> nb.index.tolist(), np.isinf(nb.distance).tolist()
    ([0, -1], [False, True])
    """
    from sklearn.neighbors import KDTree

    tree = KDTree(reference)
    counts = tree.query_radius(query, radius, count_only=True)
    hit = np.flatnonzero(counts > 0)
    dist = np.full(len(query), np.inf)
    idx = np.full(len(query), -1, dtype=np.int64)
    if hit.size:
        d, i = tree.query(query[hit], k=1)
        dist[hit], idx[hit] = d[:, 0], i[:, 0]
    return Neighbours(distance=dist, index=idx)
