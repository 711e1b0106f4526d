"""Drift results shared by the drift checks, computed once per run and cached on the context.

The column tests, the domain classifier, the embedding tests and the label-law (concept) test
form one family: the
dataset-level decision applies Benjamini-Hochberg across all of them, so its false-alarm rate
is controlled whichever of them fire.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from tripwire.context import AuditContext
from tripwire.stats.decision import DatasetDecision, decide
from tripwire.stats.univariate import ColumnDrift, test_column, unseen_from

MULTIVARIATE = "(all features)"
#: Kinds of tests in the family that are not a column's own distribution test.
NOT_COLUMNS = ("multivariate", "embedding", "concept")
_NUMBERED = re.compile(r"^(.*?)[_\-.]?(\d+)$")
EMBEDDING_MIN_COLUMNS = 8


def sides(ctx: AuditContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    assert ctx.test is not None
    return ctx.train, ctx.test


def column_results(ctx: AuditContext) -> list[ColumnDrift]:
    """Distribution, missing-rate and unseen-category tests of every feature (and of the
    target when both sides have it)."""

    def compute() -> list[ColumnDrift]:
        ref, cur = sides(ctx)
        methods: Mapping[str, str] = ctx.option("drift_methods", {}) or {}
        out: list[ColumnDrift] = []
        columns = list(ctx.features)
        target = ctx.target
        if target and target in cur.columns and cur[target].notna().sum() >= 5:
            columns.append(target)

        def one(col: str) -> list[ColumnDrift]:
            kind = ctx.kinds.get(col, "categorical")
            if col == target and ctx.task != "regression":
                kind = "categorical"
            r_ref, r_cur = ref[col], cur[col]
            if col == target:
                r_cur = r_cur.dropna()  # labels that have not arrived are not a shift
            res = test_column(
                r_ref, r_cur, kind, method=methods.get(col), random_state=ctx.random_state
            )
            found = [res]
            if kind in ("categorical", "boolean") and res.method in (
                "chi2",
                "jensen_shannon",
                "psi",
            ):
                unseen = unseen_from(res)
                if unseen is not None:
                    found.append(unseen)
            if col != target and (r_ref.hasnans or r_cur.hasnans):
                found.append(test_column(r_ref, r_cur, kind, method="missing_rate"))
            return found

        ctx.progress(f"column tests on {len(columns)} column(s)")
        jobs = int(ctx.option("n_jobs", min(2, os.cpu_count() or 1)))
        if jobs > 1 and _large(ctx):
            # sorting and hashing release the GIL: threads share the work without copies
            with ThreadPoolExecutor(jobs) as pool:
                done = list(pool.map(one, columns))
        else:
            done = [one(c) for c in columns]
        for found in done:
            out.extend(found)
        return out

    result: list[ColumnDrift] = ctx.cached("drift:columns", compute)
    return result


def _large(ctx: AuditContext) -> bool:
    ref, cur = sides(ctx)
    return (len(ref) + len(cur)) * max(1, len(ctx.features)) > 4_000_000


def embedding_blocks(ctx: AuditContext) -> dict[str, list[str]]:
    """Groups of numeric columns that look like an embedding (``emb_0 ... emb_63``), or the
    ``embedding_columns`` option (a list, or a mapping of block name to columns)."""
    given = ctx.option("embedding_columns")
    if given:
        if isinstance(given, Mapping):
            return {str(k): list(v) for k, v in given.items()}
        return {"embedding": list(given)}
    groups: dict[str, list[str]] = {}
    for col in ctx.features:
        if ctx.kinds.get(col) != "numeric":
            continue
        m = _NUMBERED.match(col)
        if m and m.group(1):
            groups.setdefault(m.group(1), []).append(col)
    return {k: v for k, v in groups.items() if len(v) >= EMBEDDING_MIN_COLUMNS}


def encoded_sides(
    ctx: AuditContext, max_rows: int
) -> tuple[np.ndarray, np.ndarray, dict[str, list[int]], np.ndarray, np.ndarray, np.ndarray]:
    """Seeded row samples of both sides encoded as float matrices for a domain classifier.

    Returns ``(X_ref, X_cur, groups, categorical_mask, ref_positions, cur_positions)``;
    ``groups`` maps each feature to its encoded columns (a text column is
    TEXT_COMPONENTS components of its TF-IDF, fit on both samples together without their
    side, so the held-out test stays exact).
    """
    from tripwire.checks.cross_fit import model_input
    from tripwire.models import TEXT_COMPONENTS, TabularEncoder

    ref, cur = sides(ctx)
    rng = ctx.rng(101)
    pos_r = np.sort(rng.choice(len(ref), min(len(ref), max_rows), replace=False))
    pos_c = np.sort(rng.choice(len(cur), min(len(cur), max_rows), replace=False))
    feats = list(ctx.features)
    kinds = {c: ctx.kinds[c] for c in feats}
    sr, sc = ref[feats].iloc[pos_r], cur[feats].iloc[pos_c]
    sr, sc = model_input(ctx, sr), model_input(ctx, sc)  # yes/no columns kept as words
    enc = TabularEncoder(kinds, text_components=TEXT_COMPONENTS, random_state=ctx.random_state)
    enc.fit(pd.concat([sr, sc], ignore_index=True))
    return (
        enc.transform(sr),
        enc.transform(sc),
        dict(enc.blocks_),
        enc.categorical_mask_,
        pos_r,
        pos_c,
    )


def c2st(ctx: AuditContext) -> Any:
    """The domain-classifier test (None when disabled or nothing to learn from)."""

    def compute() -> Any:
        if ctx.option("multivariate", True) is False:
            return None
        from tripwire.stats.c2st import MAX_ROWS, classifier_two_sample_test

        cap = int(ctx.option("c2st_max_rows", MAX_ROWS))
        X_ref, X_cur, groups, cat, pos_r, pos_c = encoded_sides(ctx, cap)
        if X_ref.shape[1] == 0 or len(X_ref) < 20 or len(X_cur) < 20:
            return None
        ctx.progress(f"domain classifier on {len(X_ref):,} + {len(X_cur):,} rows")
        res = classifier_two_sample_test(
            X_ref,
            X_cur,
            groups=groups,
            categorical=cat,
            max_rows=cap,
            random_state=ctx.random_state,
        )
        return {"result": res, "cur_positions": pos_c}

    return ctx.cached("drift:c2st", compute)


def c2st_as_column(res: Any) -> ColumnDrift:
    r = res["result"]
    return ColumnDrift(
        MULTIVARIATE,
        "multivariate",
        "c2st",
        r.auc,
        r.p_value,
        "auc_excess",
        r.auc - 0.5,
        r.auc_low - 0.5,
        r.auc_high - 0.5,
        r.n_ref,
        r.n_cur,
        {"drivers": r.drivers[:10]},
    )


def mmd_results(ctx: AuditContext) -> list[ColumnDrift]:
    """MMD tests of each embedding-like block of numeric columns."""

    def compute() -> list[ColumnDrift]:
        from tripwire.stats.mmd import mmd_test

        ref, cur = sides(ctx)
        out = []
        for name, cols in embedding_blocks(ctx).items():
            a = ref[cols].to_numpy(dtype=float, na_value=np.nan)
            b = cur[cols].to_numpy(dtype=float, na_value=np.nan)
            a = a[~np.isnan(a).any(axis=1)]
            b = b[~np.isnan(b).any(axis=1)]
            if len(a) < 20 or len(b) < 20:
                continue
            ctx.progress(f"MMD on embedding block {name!r} ({len(cols)} columns)")
            r = mmd_test(a, b, random_state=ctx.random_state)
            out.append(
                ColumnDrift(
                    f"{name}[{len(cols)} columns]",
                    "embedding",
                    "mmd",
                    r.mmd2,
                    r.p_value,
                    "mmd2",
                    r.mmd2,
                    r.mmd2_low,
                    r.mmd2_high,
                    r.n_ref,
                    r.n_cur,
                    {"columns": cols, "bandwidth": r.bandwidth, "null_q95": r.null_q95},
                )
            )
        return out

    result: list[ColumnDrift] = ctx.cached("drift:mmd", compute)
    return result


def decision(ctx: AuditContext) -> DatasetDecision:
    """Benjamini-Hochberg across column, domain-classifier, embedding and (with labelled current
    data) label-law tests."""

    def compute() -> DatasetDecision:
        jobs = int(ctx.option("n_jobs", min(2, os.cpu_count() or 1)))
        if jobs > 1 and _large(ctx):
            # the domain classifier's tree building releases the GIL: fit it while the
            # column tests run
            with ThreadPoolExecutor(1) as pool:
                pending = pool.submit(c2st, ctx)
                tests = list(column_results(ctx))
                res = pending.result()
        else:
            tests = list(column_results(ctx))
            res = c2st(ctx)
        if res is not None:
            tests.append(c2st_as_column(res))
        tests.extend(mmd_results(ctx))
        from tripwire.checks.drift.concept import concept_results

        tests.extend(concept_results(ctx))
        return decide(
            tests,
            alpha=float(ctx.option("alpha", 0.05)),
            min_effect=ctx.option("min_effect", {}) or {},
        )

    result: DatasetDecision = ctx.cached("drift:decision", compute)
    return result
