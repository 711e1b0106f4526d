"""Failure mode 1: bad or noisy labels.

Confident learning on out-of-fold probabilities (train) and on the fitted model's
probabilities (test, reported separately), and regression label outliers on a robust scale.
Conflicting labels on duplicate inputs live in ``label_conflicts``, several annotators in
``annotators``, labels that go out of date in ``outdated_labels``.

Severity is a statistical decision. Confident learning always reports some noise where
classes overlap, so its estimate alone never warns. A warning needs either

- the *noise floor* (the disagreement rate among the rows the model is most sure of, a Wilson
  lower bound) and the noise-rate interval both at 5% or more: noise that does not depend on
  the inputs, visible without a test set; or
- with labelled test data, a likelihood-ratio test that train and test labels follow different
  laws given the model's scores (the null of a random split: one law), rejected at 1%, and
  the two fitted laws at least 2 points apart; the warning goes to train. This
  catches noise that hides from the floor: class-conditional flips (the surest rows are of
  the clean class) and noise that grows with a feature.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from tripwire.checks import check
from tripwire.checks.cross_fit import MIN_COMPARE_ROWS, scored_sides
from tripwire.context import AuditContext
from tripwire.findings import Finding
from tripwire.stats.confident_learning import LabelIssues, find_label_issues
from tripwire.stats.label_law import (
    CLIP_Z,
    compare_sides,
    local_robust_z,
    outlier_comparison,
)

TOP_K = 20
#: A warning needs the lower bounds of the noise rate and of the noise floor at 5% or more.
#: Clean labels of hard tasks disagree with the model's surest decile at a few per cent
#: (German credit: 2-9% over random subsamples), so a lower bar warns on clean data.
FLOOR = 0.05
#: The train/test comparison: significance level and the smallest distance between the two
#: sides' fitted label laws (total variation averaged over rows).
ALPHA = 0.01
DISTANCE = 0.02


def _codes(y: pd.Series, classes: tuple[Any, ...]) -> np.ndarray:
    lookup = {str(c): i for i, c in enumerate(classes)}
    return y.astype(str).map(lookup).fillna(-1).to_numpy(dtype=np.int64)


def _wilson_low(k: float, n: float, z: float = 1.96) -> float:
    if n <= 0:
        return 0.0
    p = k / n
    den = 1 + z * z / n
    centre = p + z * z / (2 * n)
    return float(max(0.0, (centre - z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / den))


def ordinal_ranks(classes: tuple[Any, ...], proba: np.ndarray | None = None) -> np.ndarray | None:
    """Rank of each class on its numeric scale when the classes form an ordinal rating, else
    None.

    The classes must be 3 or more integers (wine quality 3-9, star ratings). Integers are also
    used as plain codes of unordered classes, so with ``proba`` the model must confirm the
    order: for a rating, the two most probable classes of a row are mostly neighbours on the
    scale. The share of rows where they are must lie at least halfway between chance (2/K,
    for unordered classes) and 1.

    Examples
    --------
    >>> ordinal_ranks(("10", "3", "9")).tolist(), ordinal_ranks(("bad", "good"))
    ([2, 0, 1], None)
    >>> P = np.array([[0.6, 0.3, 0.1], [0.1, 0.5, 0.4], [0.5, 0.1, 0.4]] * 10)
    >>> ordinal_ranks(("1", "2", "3"), P) is None  # a third of rows mix the two ends
    True
    """
    try:
        values = np.array([float(c) for c in classes])
    except (TypeError, ValueError):
        return None
    k = len(values)
    if k < 3 or not np.all(np.mod(values, 1) == 0):
        return None
    ranks = np.argsort(np.argsort(values, kind="stable"), kind="stable")
    if proba is not None:
        top2 = np.argsort(-proba, axis=1, kind="stable")[:, :2]
        adjacent = float(np.mean(np.abs(ranks[top2[:, 0]] - ranks[top2[:, 1]]) == 1))
        chance = 2.0 / k
        if adjacent < chance + (1.0 - chance) / 2:
            return None
    return ranks


def noise_floor(
    labels: np.ndarray, proba: np.ndarray, share: float = 0.1, ranks: np.ndarray | None = None
) -> dict[str, float]:
    """Disagreement among the rows the model is most confident about (anchor rows).

    Where the model is sure, clean labels agree with it; label noise that does not depend on
    the inputs shows up there at its full rate. Returns the rate and its Wilson lower bound.
    On an ordinal scale (``ranks`` from :func:`ordinal_ranks`) only labels two or more steps
    from the model's class count: one step is within the uncertainty of a rating.

    Examples
    --------
    >>> P = np.tile([[0.9, 0.1]], (100, 1)); y = np.zeros(100, dtype=int); y[:20] = 1
    >>> noise_floor(y, P, share=1.0)["rate"]
    0.2
    """
    conf = proba.max(axis=1)
    m = max(30, int(share * len(conf)))
    top = np.argsort(-conf, kind="stable")[: min(m, len(conf))]
    pred = proba[top].argmax(axis=1)
    if ranks is None:
        off = pred != labels[top]
    else:
        off = np.abs(ranks[pred] - ranks[labels[top]]) >= 2
    k = float(off.sum())
    return {"rate": k / len(top), "low": _wilson_low(k, len(top)), "rows": float(len(top))}


def side_differs(comparison: dict[str, float] | None, side: str) -> bool:
    """True for the train side when the comparison rejects one law for both sides at ALPHA
    and the two fitted laws are DISTANCE or more apart.

    Which side holds the wrong labels is not identified by the test (class-conditional flips
    towards the majority class make the noisy side look *less* noisy to confident learning),
    so the warning goes to train, whose rows are the ones flagged; the test side warns only
    by its own floor.
    """
    if side != "train" or comparison is None or comparison["p_value"] >= ALPHA:
        return False
    return bool(comparison["distance"] >= DISTANCE)


def is_material(
    res: LabelIssues,
    floor: dict[str, float],
    comparison: dict[str, float] | None = None,
    side: str = "train",
) -> bool:
    """The warning rule: at least five flagged rows, and either the noise-rate and noise-floor
    lower bounds at FLOOR or more, or ``side``'s labels differ from the other side's
    (:func:`side_differs`, train only). On the test side the floor does not count when the
    sides differ and train has the higher noise estimate."""
    by_floor = res.noise_interval[0] >= FLOOR and floor["low"] >= FLOOR
    if side == "test" and comparison is not None and side_differs(comparison, "train"):
        # test scores come from a model fit on train labels: when those are the noisier,
        # clean test labels disagree with its surest predictions, and the floor would blame test
        by_floor = by_floor and comparison["excess"] <= 0
    return bool(len(res.ranked) >= 5 and (by_floor or side_differs(comparison, side)))


def _comparison(ctx: AuditContext) -> dict[str, float] | None:
    """Train against test labels (:func:`compare_sides`), when test is labelled."""
    scored = scored_sides(ctx, "train/test label comparison")
    if scored is None:
        return None
    c_tr, p_tr, c_te, p_te = scored
    known = c_te >= 0
    if known.sum() < MIN_COMPARE_ROWS:
        return None
    return compare_sides(c_tr, p_tr, c_te[known], p_te[known], alpha=ALPHA)


def _comparison_text(comparison: dict[str, float] | None, what: str) -> str:
    if comparison is None:
        return ", or labelled test data to compare with (none here)."
    c = comparison
    verdict = "differ" if c["p_value"] < ALPHA else "do not differ"
    return (
        f", or {what} labels that follow another law than the other side's given the model's "
        f"scores (both sides scored by the same fold models). They {verdict}: "
        f"likelihood-ratio statistic {c['statistic']:.1f} on {int(c['df'])} degrees of "
        f"freedom, p = {c['p_value']:.2g} against the null of one law for both sides (a "
        f"random split), at level {ALPHA:g}; the two fitted laws are {c['distance']:.1%} "
        f"apart (total variation; {DISTANCE:.0%} needed); estimated noise "
        f"{c['noise_train']:.1%} in train and {c['noise_test']:.1%} in test. When they "
        "differ the warning goes to train, whose rows are flagged; if the test labels were "
        "made by another process, check them too."
        + (
            " Train labels are the noisier: the model was fit on them, so test labels that "
            "disagree with its surest predictions do not count against test."
            if what == "test" and side_differs(c, "train") and c["excess"] > 0
            else ""
        )
    )


def _top_rows(res: LabelIssues, labels: np.ndarray, classes: tuple[Any, ...]) -> list[dict]:
    return [
        {
            "row": int(r),
            "given": classes[labels[r]],
            "suggested": classes[res.suggested[r]],
            "quality": round(float(res.quality[r]), 4),
        }
        for r in res.ranked[:TOP_K]
    ]


def _issues_finding(
    ctx: AuditContext, side: str, labels: np.ndarray, proba: np.ndarray, classes: tuple
) -> Finding:
    res = find_label_issues(labels, proba, random_state=ctx.random_state)
    ranks = ordinal_ranks(classes, proba)
    floor = noise_floor(labels, proba, ranks=ranks)
    comparison = ctx.cached("labels:compare", lambda: _comparison(ctx))
    n = len(labels)
    low, high = res.noise_interval
    material = is_material(res, floor, comparison, side)
    severity = "warning" if material else "info"
    index = ctx.frame(side).index.to_numpy()
    what = "training" if side == "train" else "test"
    title = (
        f"About {res.noise_rate:.0%} of {what} labels look wrong ({len(res.ranked):,} rows flagged)"
        if material
        else f"No material label noise in {what} data (confident-learning estimate "
        f"{res.noise_rate:.1%}, explained by class overlap)"
    )
    return Finding(
        check=f"labels.issues{'' if side == 'train' else '_test'}",
        mode="labels",
        severity=severity,
        title=title,
        detail=(
            f"Confident learning on {n:,} rows estimates a noise rate of {res.noise_rate:.1%} "
            f"(95% interval {low:.1%} to {high:.1%}). Among the {int(floor['rows']):,} rows the "
            f"model is most sure of, {floor['rate']:.1%} of labels disagree with it (lower bound "
            f"{floor['low']:.1%}); clean labels agree there, so this floor separates noise from "
            f"class overlap. A warning needs both lower bounds at {FLOOR:.0%} or more"
            + _comparison_text(comparison, what)
            + (
                " The classes are an ordinal scale: the floor counts only labels two or more "
                "steps from the model's class (one step is within a rating's uncertainty)."
                if ranks is not None
                else ""
            )
        ),
        columns=[ctx.target or ""],
        rows={side: [int(index[r]) for r in res.ranked]} if material else {},
        evidence={
            "noise_rate": {"estimate": res.noise_rate, "low": low, "high": high, "level": 0.95},
            "noise_floor": {**floor, "ordinal": ranks is not None},
            "train_vs_test": comparison,
            "flagged": int(len(res.ranked)),
            "rows": n,
            "classes": list(classes),
            "thresholds": res.thresholds.round(4).tolist(),
            "noise_matrix": res.noise_matrix.round(4).tolist(),
            "confident_joint": res.confident_joint.astype(int).tolist(),
            "top_rows": _top_rows(res, labels, classes),
        },
        action=(
            "Review the flagged rows worst first (evidence.top_rows); relabel or drop those "
            "confirmed wrong, then retrain."
            if material
            else ""
        ),
    )


@check("labels.issues", mode="labels", requires=("target", "classification", "features"), order=70)
def label_issues(ctx: AuditContext) -> Iterator[Finding]:
    """Label errors in train by confident learning on out-of-fold probabilities."""
    oof = ctx.oof()
    if oof.proba is None:
        return
    labels = _codes(ctx.y("train"), oof.classes)
    if (labels < 0).any():
        return
    if _uninformative(labels, oof.proba):
        yield _cannot_judge(ctx, "train", oof.source)
        return
    yield _issues_finding(ctx, "train", labels, oof.proba, oof.classes)


#: A model is taken to separate the classes when, for some class, its probability of that
#: class ranks the class's rows above the others (one-sided Mann-Whitney) at this level,
#: Bonferroni-corrected over the classes.
SKILL_ALPHA = 0.01


def _uninformative(labels: np.ndarray, proba: np.ndarray) -> bool:
    """True when the model's probabilities do not rank any class's rows above the others
    (:data:`SKILL_ALPHA`): a constant or no-skill model, for which confident learning would
    flag the minority class as noise. Ranks need no calibration and keep their power when a
    class is rare (AUC 0.66 with 6% positives is a clear signal; a mean-probability test
    missed it)."""
    k = proba.shape[1]
    best = 1.0
    for c in range(k):
        mine = labels == c
        if mine.all() or not mine.any():
            continue
        test = stats.mannwhitneyu(
            proba[mine, c], proba[~mine, c], alternative="greater", method="asymptotic"
        )
        best = min(best, float(test.pvalue))
    return bool(best * k > SKILL_ALPHA)


def _cannot_judge(ctx: AuditContext, side: str, source: str) -> Finding:
    return Finding(
        check=f"labels.issues{'' if side == 'train' else '_test'}",
        mode="labels",
        severity="info",
        title=f"Labels not judged: the {source}'s probabilities carry no information",
        detail=(
            "Confident learning needs a model whose scores separate the classes. For no class "
            "does this model's probability rank that class's rows above the others (one-sided "
            f"Mann-Whitney, level {SKILL_ALPHA:g} over the classes); such a model, a constant "
            "one for instance, would flag the minority class as noise. See the metrics "
            "findings on this model."
        ),
        columns=[ctx.target or ""],
        action="Audit the labels with a model that learned something (leave out --model to "
        "use the baseline).",
    )


@check(
    "labels.issues_test",
    mode="labels",
    requires=("test", "target", "classification", "features"),
    order=71,
)
def test_label_issues(ctx: AuditContext) -> Iterator[Finding]:
    """Label errors in test; the headline metric with and without the suspect rows."""
    pred = ctx.test_predictions()
    if pred.proba is None or ctx.target not in ctx.test.columns:  # type: ignore[union-attr]
        return
    labels = _codes(ctx.y("test"), pred.classes)
    keep = labels >= 0
    if keep.sum() < 30:
        return
    if _uninformative(labels[keep], pred.proba[keep]):
        yield _cannot_judge(ctx, "test", pred.source)
        return
    f = _issues_finding(ctx, "test", labels[keep], pred.proba[keep], pred.classes)
    suspect = np.zeros(len(labels), dtype=bool)
    res_rows = set(f.rows.get("test", []))
    index = ctx.test.index.to_numpy()  # type: ignore[union-attr]
    suspect[[i for i, r in enumerate(index) if int(r) in res_rows]] = True
    correct = pred.proba.argmax(axis=1) == labels
    acc_all = float(correct[keep].mean())
    clean = keep & ~suspect
    acc_clean = float(correct[clean].mean()) if clean.any() else acc_all
    ev = dict(f.evidence)
    ev["accuracy"] = {"all_rows": acc_all, "without_suspect_rows": acc_clean}
    detail = (
        f.detail + f" Accuracy on test: {acc_all:.3f} on all rows, {acc_clean:.3f} without the "
        f"{int(suspect.sum())} suspect rows; report both, never only the second."
    )
    yield Finding(f.check, f.mode, f.severity, f.title, detail, f.columns, f.rows, ev, f.action)


#: With labelled test data, a warning needs the train share beyond COMPARE_Z to exceed the
#: test share by this much, and a one-sided test at ALPHA (:func:`outlier_comparison`).
OUTLIER_EXCESS = 0.005


def _outlier_comparison(ctx: AuditContext) -> dict[str, float] | None:
    scored = scored_sides(ctx, "train/test comparison of regression targets")
    return None if scored is None else outlier_comparison(*scored, alpha=ALPHA)


@check("labels.outliers", mode="labels", requires=("target", "regression", "features"), order=70)
def regression_outliers(ctx: AuditContext) -> Iterator[Finding]:
    """Regression targets far from the out-of-fold prediction on a robust, local scale."""
    oof = ctx.oof()
    y = ctx.y("train").to_numpy(dtype=float)
    pred = np.asarray(oof.label, dtype=float)
    resid = y - pred
    z, scales = local_robust_z(resid, pred)
    if not scales.any():
        return
    n = len(z)
    cut = max(5.0, float(stats.norm.isf(0.01 / (2 * n))))
    flagged = np.flatnonzero(np.abs(z) > cut)
    order = flagged[np.argsort(-np.abs(z[flagged]))]
    share = len(order) / n
    index = ctx.train.index.to_numpy()
    comparison = _outlier_comparison(ctx)
    if comparison is None:
        material = share >= 0.01
        rule = "A warning needs 1% of rows or more (no labelled test data to compare with)."
    else:
        c = comparison
        material = c["p_value"] < ALPHA and c["excess"] >= OUTLIER_EXCESS
        rule = (
            f"Against test, with both sides scored by the same fold models on one scale: "
            f"{c['share_train']:.2%} of train and {c['share_test']:.2%} of test targets lie "
            f"beyond {c['cutoff_z']:.1f}; mean absolute robust residual (clipped at "
            f"{CLIP_Z:g}) {c['mean_abs_z_train']:.2f} in train against {c['mean_abs_z_test']:.2f}"
            f" in test, one-sided Welch p = {c['p_value']:.2g} against the null of one law "
            f"for both sides. A warning needs p < {ALPHA:g} and train "
            f"{OUTLIER_EXCESS:.1%} or more above test (targets heavy-tailed by nature are so "
            "in test too)."
        )
    yield Finding(
        check="labels.outliers",
        mode="labels",
        severity="warning" if material else "info",
        title=f"{len(order):,} regression targets are far from what the inputs predict",
        detail=(
            f"Out-of-fold residuals are scaled by their robust spread (MAD) within "
            f"{len(scales)} bins of the predicted value (scales {scales.min():.4g} to "
            f"{scales.max():.4g}), so large values with proportionally large errors are not "
            f"outliers; {len(order):,} rows ({share:.2%}) lie beyond {cut:.1f} robust standard "
            f"deviations. {rule}"
        ),
        columns=[ctx.target or ""],
        rows={"train": [int(index[r]) for r in order]},
        evidence={
            "scale": float(np.median(scales)),
            "bin_scales": [round(float(s), 6) for s in scales],
            "cutoff_z": cut,
            "share": share,
            "train_vs_test": comparison,
            "top_rows": [
                {
                    "row": int(index[r]),
                    "target": float(y[r]),
                    "predicted": float(pred[r]),
                    "z": round(float(z[r]), 2),
                }
                for r in order[:TOP_K]
            ],
        },
        action="Check the top rows for unit, typing or capping errors before training."
        if len(order)
        else "",
    )
