"""Drift between two profiles, without the raw data, with the sketches' error in the decision.

Per column: the Kolmogorov-Smirnov distance between the two KLL sketches (numeric), the total
variation distance between the frequent-items category shares (categorical), and the change
in the missing rate (exact counts). At tens of millions of rows every real difference is
significant, so a column is flagged only when the effect is material *after* the error of
the sketches and of sampling is taken off: the lower end of the effect interval
``effect - sketch_error - sampling_error`` must reach the negligible-effect bar of
:data:`tripwire.stats.decision.DEFAULT_MIN_EFFECT`. p-values come from the same conservative
effect (the distance minus the sketch error), and Benjamini-Hochberg runs across all tests.

References
----------
Karnin, Lang and Liberty (2016) for the KLL rank error; Agarwal et al. (2013), Mergeable
summaries, TODS, for merging; Benjamini and Hochberg (1995).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from tripwire.errors import InputError
from tripwire.findings import Finding, Report
from tripwire.scale.profile import ColumnProfile, DatasetProfile
from tripwire.stats.decision import DatasetDecision, bar_for
from tripwire.stats.multiple_testing import benjamini_hochberg
from tripwire.stats.univariate import ColumnDrift

GRID = 1000  # quantile points per side where the two CDFs are compared


def _ks_sampling(n: int, m: int) -> float:
    """Half-width of the 95% band of the KS distance under the null (1.358 sqrt((n+m)/nm))."""
    return 1.358 * math.sqrt((n + m) / (n * m))


def numeric_drift(ref: ColumnProfile, cur: ColumnProfile) -> ColumnDrift:
    """KS distance between two KLL sketches, with the sketch error and grid error as bounds."""
    from scipy.special import kolmogorov

    n, m = ref.n_values(), cur.n_values()
    qs = np.linspace(0, 1, GRID + 1)
    grid = np.unique(np.concatenate([ref.quantiles(qs), cur.quantiles(qs)]))
    grid = grid[np.isfinite(grid)]
    diff = np.abs(ref.cdf(grid) - cur.cdf(grid))
    i = int(np.argmax(diff))
    d = float(diff[i])
    sketch_err = ref.rank_error() + cur.rank_error()
    if ref.rank_error() or cur.rank_error():
        sketch_err += 1.0 / GRID  # the CDFs may part further between grid points
    d_low = max(0.0, d - sketch_err)
    ne = n * m / (n + m)
    p = float(kolmogorov(math.sqrt(ne) * d_low)) if d_low > 0 else 1.0
    half = _ks_sampling(n, m)
    sd_ref = ref.std
    # Wasserstein-1 from the quantile functions, and PSI on the reference's deciles.
    u = np.linspace(0.0005, 0.9995, GRID)
    w1 = float(np.mean(np.abs(np.subtract(ref.quantiles(u), cur.quantiles(u)))))
    edges = np.unique(ref.quantiles(np.linspace(0.1, 0.9, 9)))
    share_r = np.diff(np.concatenate([[0.0], ref.cdf(edges), [1.0]]))
    share_c = np.diff(np.concatenate([[0.0], cur.cdf(edges), [1.0]]))
    share_r, share_c = np.clip(share_r, 1e-4, None), np.clip(share_c, 1e-4, None)
    psi = float(np.sum((share_c - share_r) * np.log(share_c / share_r)))
    extra = {
        "at_value": float(grid[i]),
        "sketch_error": sketch_err,
        "sampling_error": half,
        "mean_ref": ref.mean,
        "mean_cur": cur.mean,
        "mean_shift_sd": (cur.mean - ref.mean) / sd_ref if sd_ref and sd_ref > 0 else float("nan"),
        "std_ratio": cur.std / sd_ref if sd_ref and sd_ref > 0 else float("nan"),
        "wasserstein_sd": w1 / sd_ref if sd_ref and sd_ref > 0 else float("nan"),
        "psi": psi,
        "quantiles": {
            "q": [0.05, 0.25, 0.5, 0.75, 0.95],
            "ref": ref.quantiles([0.05, 0.25, 0.5, 0.75, 0.95]),
            "cur": cur.quantiles([0.05, 0.25, 0.5, 0.75, 0.95]),
        },
    }
    return ColumnDrift(
        ref.name, "numeric", "ks_sketch", d, p, "ks_distance", d,
        max(0.0, d - sketch_err - half), min(1.0, d + sketch_err + half), n, m, extra,
    )  # fmt: skip


#: Numbers of leading categories tried when the frequent-items sketches are not exact.
COARSE_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


def categorical_drift(ref: ColumnProfile, cur: ColumnProfile) -> ColumnDrift:
    """Total variation between category shares (items beyond the sketch pooled as 'other').

    While both frequent-items sketches are exact, every category is compared. Otherwise
    each estimated share is off by at most the sketch's share error ``e``, so the total
    variation over the ``k`` leading categories plus 'other' is off by at most ``k * e``
    (both sides' ``e`` added). Pooling categories can only lower the total variation, so
    ``TV_k - k * e`` is a lower bound of the true effect for every ``k``; the best of these
    bounds over a few ``k`` (:data:`COARSE_SIZES`) is the effect net of the sketch error,
    and the effect reported is ``TV_k`` for that ``k`` (``compared_categories``).
    With thousands of categories, a shift among the common ones stays detectable instead of
    drowning in the error of the rare ones.
    """
    from scipy.stats import chi2

    n, m = ref.n_values(), cur.n_values()
    a, b = ref.category_counts(), cur.category_counts()
    keys = sorted(set(a) | set(b))
    pa_ = np.array([a.get(k, 0.0) for k in keys]) / n
    pb_ = np.array([b.get(k, 0.0) for k in keys]) / m

    def coarse(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        ca = np.append(pa_[idx], max(0.0, 1 - pa_[idx].sum()))
        cb = np.append(pb_[idx], max(0.0, 1 - pb_[idx].sum()))
        return ca, cb, float(0.5 * np.abs(ca - cb).sum())

    pa_full, pb_full, tv = coarse(np.arange(len(keys)))
    err = ref.share_error() + cur.share_error()
    full_err = min(1.0, len(keys) * err)
    k_best, (ca, cb, tv_k), low = len(keys), (pa_full, pb_full, tv), tv - full_err
    if err > 0:
        order = np.argsort(-np.maximum(pa_, pb_), kind="stable")
        for k in sorted({min(len(keys), s) for s in COARSE_SIZES}):
            cand = coarse(order[:k])
            if cand[2] - min(1.0, k * err) > low:
                k_best, (ca, cb, tv_k), low = k, cand, cand[2] - min(1.0, k * err)
    tv_low = max(0.0, low)
    sketch_err = tv_k - low  # k * e, capped at 1
    # Chi-square on the compared table, shrunk to the conservative effect.
    pooled = (ca * n + cb * m) / (n + m)
    keep = pooled > 0
    scale = (tv_low / tv_k) if tv_k > 0 else 0.0
    dev = (ca - cb)[keep] * scale
    stat = float(((dev**2) / pooled[keep]).sum() * n * m / (n + m))
    dof = max(1, int(keep.sum()) - 1)
    p = float(chi2.sf(stat, dof)) if tv_low > 0 else 1.0
    half = math.sqrt(k_best + 1) * math.sqrt((n + m) / (n * m))
    order5 = np.argsort(-np.abs(pa_ - pb_))[:5]
    sa, sb = np.clip(pa_full, 1e-6, None), np.clip(pb_full, 1e-6, None)
    psi = float(np.sum((sb - sa) * np.log(sb / sa)))
    mid = (sa + sb) / 2
    js = float(0.5 * np.sum(sa * np.log(sa / mid)) + 0.5 * np.sum(sb * np.log(sb / mid)))
    extra = {
        "sketch_error": sketch_err,
        "sampling_error": half,
        "categories": len(keys),
        "compared_categories": k_best,
        "total_variation_all": tv,
        "psi": psi,
        "jensen_shannon": js,
        "top_changes": [
            {"value": keys[j], "ref": float(pa_[j]), "cur": float(pb_[j])} for j in order5
        ],
    }
    return ColumnDrift(
        ref.name, "categorical", "tv_sketch", stat, p, "total_variation", tv_k,
        max(0.0, tv_low - half), min(1.0, tv + full_err + half), n, m, extra,
    )  # fmt: skip


def missing_drift(ref: ColumnProfile, cur: ColumnProfile) -> ColumnDrift | None:
    """Two-proportion z-test on the exact missing counts; None when neither side has any."""
    from scipy.stats import norm

    if ref.missing == 0 and cur.missing == 0:
        return None
    n, m = ref.count, cur.count
    r, c = ref.missing / n, cur.missing / m
    pooled = (ref.missing + cur.missing) / (n + m)
    se0 = math.sqrt(max(pooled * (1 - pooled) * (1 / n + 1 / m), 1e-300))
    p = float(2 * norm.sf(abs(c - r) / se0))
    se = math.sqrt(r * (1 - r) / n + c * (1 - c) / m)
    extra = {"missing_ref": r, "missing_cur": c, "sketch_error": 0.0}
    return ColumnDrift(
        ref.name, ref.kind, "missing_rate", (c - r) / se0, p, "missing_rate_change", c - r,
        c - r - 1.96 * se, c - r + 1.96 * se, n, m, extra,
    )  # fmt: skip


def compare_profiles(
    reference: DatasetProfile,
    current: DatasetProfile,
    *,
    alpha: float = 0.05,
    min_effect: Mapping[str, float] | None = None,
    bar_on: str = "interval",
    missing: bool = True,
) -> DatasetDecision:
    """Column tests between two profiles and the dataset-level decision.

    A test is ``drift`` when its BH q-value is at most ``alpha`` and its effect reaches the
    bar for its effect. With ``bar_on="interval"`` (for tables of millions of rows) the lower
    end of the effect interval, sketch and sampling error taken off, must reach the bar; with
    ``bar_on="point"`` (for small samples such as a monitor's windows, where the sampling
    error would swamp the bar) the effect net of the sketch error must, as
    :func:`tripwire.stats.decision.decide` asks of exact tests. ``missing=False`` leaves out
    the missing-rate tests (when missing values are checked elsewhere).

    Examples
    --------
    >>> import pandas as pd
    >>> from tripwire.scale.profile import profile_frame
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"a": rng.normal(size=20000), "b": rng.normal(size=20000)})
    >>> cur = pd.DataFrame({"a": rng.normal(size=20000), "b": rng.normal(0.3, 1, 20000)})
    >>> d = compare_profiles(profile_frame(ref), profile_frame(cur))
    >>> d.columns("drift"), d.statuses
    (['b'], ('ok', 'drift'))
    """
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be between 0 and 1; got {alpha}.")
    if bar_on not in ("interval", "point"):
        raise InputError(f"bar_on must be 'interval' or 'point'; got {bar_on!r}.")
    common = [c for c in reference.columns if c in current.columns]
    if not common:
        raise InputError(
            "The two profiles share no column. Profile the same table schema for reference and current."
        )
    results: list[ColumnDrift] = []
    for name in common:
        r, c = reference.columns[name], current.columns[name]
        if r.kind != c.kind:
            continue
        if r.n_values() and c.n_values():
            results.append(numeric_drift(r, c) if r.kind == "numeric" else categorical_drift(r, c))
        miss = missing_drift(r, c) if missing else None
        if miss is not None:
            results.append(miss)
    p = np.array([x.p_value for x in results], dtype=float)
    q = benjamini_hochberg(p) if len(p) else np.array([])
    statuses = []
    for res, qv in zip(results, q):
        if qv <= alpha:
            statuses.append(
                "drift"
                if _material(res, bar_for(res.effect_name, min_effect), bar_on)
                else "negligible"
            )
        else:
            statuses.append("ok")
    from tripwire.stats.decision import DEFAULT_MIN_EFFECT

    return DatasetDecision(
        drifted="drift" in statuses,
        alpha=alpha,
        results=tuple(results),
        q_values=tuple(float(v) for v in q),
        statuses=tuple(statuses),
        min_effect={**DEFAULT_MIN_EFFECT, **(min_effect or {})},
        correction="benjamini-hochberg, effect net of sketch error",
    )


def _material(res: ColumnDrift, bar: float, bar_on: str) -> bool:
    if bar_on == "point":
        net = abs(res.effect) - float(res.extra.get("sketch_error", 0.0))
        return net >= bar and net > 0
    low = res.effect_low if res.effect >= 0 else res.effect_high
    return abs(low) >= bar and (res.effect_low > 0 or res.effect_high < 0)


def profile_drift(
    reference: DatasetProfile | Any,
    current: DatasetProfile | Any,
    *,
    alpha: float = 0.05,
    min_effect: Mapping[str, float] | None = None,
    names: tuple[str, str] = ("reference", "current"),
) -> Report:
    """A drift Report (findings ``drift.columns``) from two profiles, or data and a profile.

    Either side may be a :class:`DatasetProfile`, a profile file, or data (a path or frame),
    which is profiled first.
    """
    from tripwire.checks.drift.columns import CRITICAL_EFFECT, describe, effect_text, evidence
    from tripwire.scale.engines import profile
    from tripwire.scale.profile import is_profile_file, load_profile

    started = time.perf_counter()

    def as_profile(x: Any) -> DatasetProfile:
        if isinstance(x, DatasetProfile):
            return x
        if is_profile_file(x):
            return load_profile(x)
        return profile(x)

    ref, cur = as_profile(reference), as_profile(current)
    dec = compare_profiles(ref, cur, alpha=alpha, min_effect=min_effect)
    sides = ("reference", "current")
    findings: list[Finding] = []
    negligible = []
    for r, q, status in zip(dec.results, dec.q_values, dec.statuses):
        if status == "negligible":
            negligible.append(r)
        if status != "drift":
            continue
        big = r.effect_low >= CRITICAL_EFFECT
        what = (
            "missing-value rate changed" if r.method == "missing_rate" else "distribution shifted"
        )
        err = r.extra.get("sketch_error", 0.0)
        findings.append(
            Finding(
                check="drift.columns",
                mode="drift",
                severity="critical" if big else "warning",
                title=f"Column {r.column!r} {what} ({effect_text(r)}, q={q:.2g})",
                detail=(
                    describe(r)
                    + f" Compared from profiles of {r.n_ref:,} {names[0]} and {r.n_cur:,} "
                    f"{names[1]} values ({r.method}); the effect interval already takes off the "
                    f"sketch error ({err:.4f}) and sampling error, and its lower end is above the "
                    f"negligible bar of {dec.min_effect.get(r.effect_name, 0):.3f}."
                ),
                columns=[r.column],
                evidence=evidence(r, q, sides),
                action=(
                    f"Look at what changed upstream for {r.column!r} (a new source, a unit change, "
                    "a new population), then retrain on recent data or reweight the training data."
                ),
            )
        )
    if negligible:
        cols = sorted({r.column for r in negligible})
        findings.append(
            Finding(
                check="drift.columns",
                mode="drift",
                severity="info",
                title=f"{len(cols)} column(s) differ significantly but negligibly",
                detail=(
                    "At these sample sizes tiny differences are significant; these stay below "
                    "the effect bar once the sketch error is taken off: "
                    + "; ".join(f"{r.column} ({effect_text(r)})" for r in negligible[:10])
                ),
                columns=cols,
                evidence={"tests": [r.to_dict() for r in negligible[:50]]},
            )
        )
    findings.append(
        Finding(
            check="drift.profile",
            mode="drift",
            severity="info",
            title=(
                f"Compared {len({r.column for r in dec.results})} columns from profiles "
                f"({ref.rows:,} vs {cur.rows:,} rows): "
                + (
                    f"drift in {', '.join(dec.columns('drift'))}"
                    if dec.drifted
                    else "no material drift"
                )
            ),
            detail=(
                "Sketch-based comparison (KLL quantiles, frequent items, exact missing counts); "
                "see docs/scale.md for the error bounds."
            ),
            evidence={"decision": dec.to_dict()},
        )
    )
    return Report(
        kind="drift",
        findings=findings,
        inputs={
            "sources": {"reference": ref.sources, "current": cur.sources},
            "rows": {"reference": ref.rows, "current": cur.rows},
            "options": {"alpha": alpha, "min_effect": dict(min_effect or {})},
            "profiles": True,
        },
        seconds=time.perf_counter() - started,
    )
