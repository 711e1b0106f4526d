"""Weak-slice discovery: where does a model err far more than on average?

A *slice* is a conjunction of up to three conditions on features (``age > 60 and region =
north``). The conditions come from :func:`~tripwire.stats.slice_encoding.encode` (in
:mod:`tripwire.stats.slice_encoding`, with :func:`~tripwire.stats.slice_encoding.slice_mask`;
both re-exported here): quantile bins of numeric features and frequent levels of categorical
ones, each one column of a sparse 0/1 matrix ``B`` (rows x conditions). This module holds the
search over them. The size and error of all slices of one level are obtained with one sparse
matrix product, in the spirit of SliceLine (Sagadeeva and Boehm, SIGMOD 2021):

* level 1: ``n = w @ B``, ``e = (w * err) @ B``;
* level k+1: the members of each surviving level-k slice form a sparse column of ``S``;
  ``S.T @ B`` gives the sizes of every extension by one more condition, and ``S.T @ (err * B)``
  their errors.

Pruning: a slice below ``min_support`` rows is dropped with all its descendants (they can
only be smaller). A slice whose error sum ``e`` could not give any descendant with at least
``min_support`` rows an error rate above ``min_error`` (``e / min_support <= min_error``) is
not extended either: its descendants are provably unable to qualify (the error bound).

Every evaluated slice gets a one-sided test of "the slice errs more than the rest", with
Benjamini-Hochberg q-values over *all* lattice nodes that were enumerated, pruned ones counting
as p = 1, so the FDR holds for the whole search: :func:`~tripwire.stats.slice_tests.slice_tests`
(in :mod:`tripwire.stats.slice_tests`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from tripwire.stats.slice_encoding import Condition, Encoding, condition_mask, encode, slice_mask
from tripwire.stats.slice_tests import slice_tests

__all__ = [
    "Condition",
    "Encoding",
    "SearchResult",
    "Slice",
    "brute_force",
    "condition_mask",
    "encode",
    "search",
    "slice_mask",
    "stability",
]


# ---------------------------------------------------------------------------------------
# The lattice search
# ---------------------------------------------------------------------------------------
@dataclass
class Slice:
    conditions: tuple[int, ...]  # condition indices, sorted
    rule: str
    columns: tuple[str, ...]
    n: float
    error: float  # mean error in the slice
    error_rest: float  # mean error outside it
    expected: float | None  # mean error the model expects in the slice (from its confidence)
    lift: float  # error / overall error
    excess: float  # extra errors attributable to the slice: (error - baseline) * n
    p_value: float
    z: float = 0.0
    q_value: float = 1.0
    interval: tuple[float, float] = (0.0, 1.0)  # of the slice's error
    diff_interval: tuple[float, float] = (0.0, 0.0)  # of error - reference
    stability: float | None = None
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)

    def describe(self, metric: str = "error") -> str:
        return (
            f"{self.rule}: {metric} {self.error:.1%} vs {self.error_rest:.1%}, n = {self.n:,.0f}"
            if metric == "error"
            else f"{self.rule}: {metric} {self.error:.4g} vs {self.error_rest:.4g}, n = {self.n:,.0f}"
        )


@dataclass
class SearchResult:
    slices: list[Slice]  # significant weak slices, best first (non-redundant)
    evaluated: int  # slices whose statistics were computed
    enumerated: int  # lattice nodes considered (evaluated + pruned)
    pruned_support: int
    pruned_bound: int
    overall_error: float
    n: float
    all_candidates: list[Slice] = field(default_factory=list, repr=False)


def _level_stats(
    S: sparse.csc_matrix, B: sparse.csc_matrix, Bw: sparse.csc_matrix, Be: sparse.csc_matrix
) -> tuple[np.ndarray, np.ndarray]:
    counts = (S.T @ Bw).toarray()
    errs = (S.T @ Be).toarray()
    return counts, errs


def search(
    enc: Encoding,
    err: np.ndarray,
    *,
    expected: np.ndarray | None = None,
    binary: bool = True,
    weights: np.ndarray | None = None,
    max_level: int = 3,
    min_support: int | None = None,
    min_lift: float = 1.25,
    alpha: float = 0.05,
    top_k: int = 10,
    max_candidates: int = 5000,
    keep_rows: bool = True,
) -> SearchResult:
    """Find slices where ``err`` (per-row loss; 0/1 when ``binary``) is much higher.

    Parameters
    ----------
    expected
        Per-row expected error under the model's own confidence (``1 - max proba``). When
        given, each slice also reports the error the model expects in it, so a caller can
        tell a region that is merely hard (the model knows it is unsure) from one where the
        model is confidently wrong.
    weights
        Row weights (bootstrap counts); the default weights every row 1.
    min_support
        Smallest slice size (default ``max(30, 1 % of rows)``).
    min_lift
        A slice must err at least this many times the overall error to be reported.
    """
    err = np.asarray(err, dtype=float)
    n_rows = len(err)
    w = np.ones(n_rows) if weights is None else np.asarray(weights, dtype=float)
    total = float(w.sum())
    if min_support is None:
        min_support = max(30, int(0.01 * total))
    overall = float((w * err).sum() / total) if total else 0.0
    B = enc.matrix
    Bw = sparse.csc_matrix(B.multiply(w[:, None]))
    Be = sparse.csc_matrix(B.multiply((w * err)[:, None]))
    Bq = Bv = None
    if expected is not None:
        q = np.asarray(expected, dtype=float)
        Bq = sparse.csc_matrix(B.multiply((w * q)[:, None]))
    if not binary:
        Bv = sparse.csc_matrix(B.multiply((w * err * err)[:, None]))
    min_error = overall * min_lift
    feat = enc.feature_of
    m = B.shape[1]

    # candidates of each level: condition sets (rows of an int array) and their sums
    sets_l: list[np.ndarray] = []
    n_l: list[np.ndarray] = []
    e_l: list[np.ndarray] = []
    q_l: list[np.ndarray] = []
    v_l: list[np.ndarray] = []
    enumerated = pruned_support = pruned_bound = 0

    def colsum(M: sparse.csc_matrix | None) -> np.ndarray:
        return np.asarray(M.sum(axis=0)).ravel() if M is not None else np.zeros(m)

    # level 1
    n1, e1, q1, v1 = colsum(Bw), colsum(Be), colsum(Bq), colsum(Bv)
    enumerated += m
    ok = n1 >= min_support
    pruned_support += int((~ok).sum())
    idx = np.flatnonzero(ok)
    sets_l.append(idx[:, None])
    n_l.append(n1[idx])
    e_l.append(e1[idx])
    q_l.append(q1[idx])
    v_l.append(v1[idx])
    extend = e1[idx] / min_support > min_error
    pruned_bound += int((~extend).sum())
    level = idx[extend][:, None]
    level_e = e1[idx][extend]

    # each row's condition per feature (-1: none), and the weighted vectors summed per slice
    F = len(enc.features)
    codes = np.full((n_rows, F), -1, dtype=np.int64)
    coo = B.tocoo()
    codes[coo.row, feat[coo.col]] = coo.col
    vectors = [
        w,
        w * err,
        w * np.asarray(expected, dtype=float) if expected is not None else None,
        w * err * err if not binary else None,
    ]
    for _depth in range(2, max_level + 1):
        if not len(level):
            break
        if len(level) > max_candidates:  # keep the parents with the most errors
            keep = np.argsort(-level_e)[:max_candidates]
            level, level_e = level[keep], level_e[keep]
        cnt, ers, qs, vs = _extend(level, codes, feat, vectors, m)
        # extend only with conditions on later features: each set is enumerated once (and
        # conditions are numbered feature by feature, so the new set stays sorted)
        valid = feat[None, :] > feat[level[:, -1]][:, None]
        enumerated += int(valid.sum())
        small = valid & (cnt < min_support)
        pruned_support += int(small.sum())
        ii, jj = np.nonzero(valid & ~small)
        new_sets = np.hstack([level[ii], jj[:, None]])
        sets_l.append(new_sets)
        n_l.append(cnt[ii, jj])
        e_new = ers[ii, jj]
        e_l.append(e_new)
        q_l.append(qs[ii, jj])
        v_l.append(vs[ii, jj])
        extend = e_new / min_support > min_error
        pruned_bound += int((~extend).sum())
        level, level_e = new_sets[extend], e_new[extend]

    width = max_level
    cand = np.full((sum(len(x) for x in sets_l), width), -1, dtype=np.int64)
    row = 0
    for x in sets_l:
        cand[row : row + len(x), : x.shape[1]] = x
        row += len(x)
    cand_n, cand_e = np.concatenate(n_l), np.concatenate(e_l)
    cand_q, cand_v = np.concatenate(q_l), np.concatenate(v_l)

    def conds_of(k: int) -> tuple[int, ...]:
        return tuple(int(c) for c in cand[k] if c >= 0)

    tot_sq = float((w * err * err).sum()) if not binary else 0.0
    ts = slice_tests(
        cand_n,
        cand_e,
        cand_q,
        cand_v,
        total=total,
        overall=overall,
        tot_sq=tot_sq,
        expected=expected is not None,
        binary=binary,
        enumerated=enumerated,
        alpha=alpha,
    )
    ns, mean, rest, exp_mean, se = ts.n, ts.error, ts.error_rest, ts.expected, ts.se
    z, p, qv, zc, lift = ts.z, ts.p, ts.q, ts.zc, ts.lift
    ref = rest

    keep_idx = np.flatnonzero((qv <= alpha) & (lift >= min_lift))
    keep_idx = keep_idx[np.argsort(-z[keep_idx])]
    found: list[Slice] = []
    for k in keep_idx:
        conds = conds_of(int(k))
        found.append(
            Slice(
                conditions=conds,
                rule=" and ".join(enc.conditions[c].text for c in conds),
                columns=tuple(enc.conditions[c].feature for c in conds),
                n=float(ns[k]),
                error=float(mean[k]),
                error_rest=float(rest[k]),
                expected=float(exp_mean[k]) if exp_mean is not None else None,
                lift=float(lift[k]),
                excess=float((mean[k] - ref[k]) * ns[k]),
                p_value=float(p[k]),
                z=float(z[k]),
                q_value=float(qv[k]),
                interval=(0.0, 1.0),
                diff_interval=(
                    float(mean[k] - ref[k] - zc * se[k]),
                    float(mean[k] - ref[k] + zc * se[k]),
                ),
            )
        )
    chosen = _select(found, B, top_k) if keep_rows else []
    lookup = {conds_of(int(k)): int(k) for k in keep_idx}
    for sl in chosen:
        sl.interval = ts.interval(lookup[sl.conditions])
        sl.rows = np.flatnonzero(_members(B, sl.conditions))
    return SearchResult(
        slices=chosen,
        evaluated=len(cand),
        enumerated=enumerated,
        pruned_support=pruned_support,
        pruned_bound=pruned_bound,
        overall_error=overall,
        n=total,
        all_candidates=found,
    )


def _extend(
    level: np.ndarray,
    codes: np.ndarray,
    feat: np.ndarray,
    vectors: list[np.ndarray | None],
    m: int,
    chunk: int = 8_000_000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sums of each vector over every extension (parent slice x condition).

    The members of each parent are found by filtering the rows of its first condition on the
    codes of the others; then weighted ``bincount`` calls over (parent, condition) pairs of
    all member rows give every extension at once (a row meets exactly one condition per
    feature). Only features after the parent's last one are counted: each set is enumerated
    once.
    """
    k = len(level)
    F = codes.shape[1]
    first_rows: dict[int, np.ndarray] = {}
    out = [np.zeros(k * (m + 1)) for _ in vectors]
    flats: list[np.ndarray] = []
    row_parts: list[np.ndarray] = []
    reps: list[int] = []
    size = 0
    unit = vectors[0] is not None and bool(np.all(vectors[0] == 1))

    def flush() -> None:
        nonlocal size
        if not flats:
            return
        flat = np.concatenate(flats)
        for j, (o, v) in enumerate(zip(out, vectors)):
            if v is None:
                continue
            if j == 0 and unit:
                o += np.bincount(flat, minlength=k * (m + 1))
                continue
            wts = np.concatenate([np.repeat(v[r], q) for r, q in zip(row_parts, reps)])
            o += np.bincount(flat, weights=wts, minlength=k * (m + 1))
        flats.clear()
        row_parts.clear()
        reps.clear()
        size = 0

    for i, parent in enumerate(level):
        a = int(parent[0])
        if a not in first_rows:
            first_rows[a] = np.flatnonzero(codes[:, feat[a]] == a)
        rows = first_rows[a]
        for t in parent[1:]:
            rows = rows[codes[rows, feat[t]] == t]
        later = int(feat[parent[-1]]) + 1
        if later >= F or not len(rows):
            continue
        c = codes[rows, later:]
        c = np.where(c < 0, m, c) + i * (m + 1)
        flats.append(c.ravel())
        row_parts.append(rows)
        reps.append(F - later)
        size += c.size
        if size >= chunk:
            flush()
    flush()
    res = [o.reshape(k, m + 1)[:, :m] for o in out]
    return res[0], res[1], res[2], res[3]


def _members(B: sparse.csc_matrix, conds: tuple[int, ...]) -> np.ndarray:
    member = B[:, conds[0]].toarray().ravel() > 0
    for c in conds[1:]:
        member &= B[:, c].toarray().ravel() > 0
    return member


def _select(found: list[Slice], B: sparse.csc_matrix, top_k: int) -> list[Slice]:
    """The most significant slices, each adding something of its own.

    ``found`` is sorted by z. A slice is skipped when a simpler slice it refines is nearly
    as significant (a condition must earn its place: z at least 5 % higher), when it refines
    or generalises a slice already chosen, or when half its rows are in chosen slices.
    """
    by_set = {s.conditions: s for s in found}
    chosen: list[Slice] = []
    covered = np.zeros(B.shape[0], dtype=bool)
    for s in found[: max(200, top_k)]:
        conds = set(s.conditions)
        simpler = [by_set[c] for c in by_set if len(c) < len(s.conditions) and set(c) < conds]
        if any(o.z >= 0.95 * s.z for o in simpler):
            continue
        if any(conds <= set(c.conditions) or set(c.conditions) <= conds for c in chosen):
            continue
        member = _members(B, s.conditions)
        if chosen and (member & covered).sum() > 0.5 * member.sum():
            continue
        chosen.append(s)
        covered |= member
        if len(chosen) >= top_k:
            break
    return chosen


def stability(
    enc: Encoding,
    err: np.ndarray,
    slices: Sequence[Slice],
    *,
    n_boot: int = 20,
    random_state: int = 0,
    **kwargs: Any,
) -> list[float]:
    """Share of bootstrap resamples (Poisson row weights) in which each slice is found again.

    A slice counts as found again when the whole search on the resample reports it as a
    significant weak slice (after multiple-testing control), not only when its own numbers
    stay high.
    """
    if not slices:
        return []
    rng = np.random.default_rng(random_state)
    hits = np.zeros(len(slices))
    kwargs = {**kwargs, "keep_rows": False}
    for _ in range(n_boot):
        w = rng.poisson(1.0, size=len(err)).astype(float)
        res = search(enc, err, weights=w, **kwargs)
        found = {s.conditions for s in res.all_candidates}
        hits += np.array([s.conditions in found for s in slices], dtype=float)
    return list(hits / n_boot)


def brute_force(
    enc: Encoding, err: np.ndarray, *, max_level: int = 3, min_support: int = 30
) -> dict[tuple[int, ...], tuple[float, float]]:
    """Every slice of up to ``max_level`` conditions with its size and error sum, by direct
    enumeration over row masks (the reference the lattice search is checked against)."""
    from itertools import combinations

    dense = enc.matrix.toarray() > 0
    err = np.asarray(err, dtype=float)
    out: dict[tuple[int, ...], tuple[float, float]] = {}
    m = dense.shape[1]
    for k in range(1, max_level + 1):
        for combo in combinations(range(m), k):
            if len(set(enc.feature_of[list(combo)])) < k:
                continue
            mask = dense[:, combo].all(axis=1)
            cnt = float(mask.sum())
            if cnt >= min_support:
                out[combo] = (cnt, float(err[mask].sum()))
    return out
