"""Costs of decisions: the cost-optimal threshold (classification) and the cost-aware shift
of predictions (regression), with an honest estimate of the saving.

``--costs`` is inline (``fn=5,fp=1``, optionally ``tp``/``tn``/``positive=CLASS``; for
regression ``over=1,under=3``) or a JSON file with the same keys. The threshold (or shift)
chosen on a bootstrap resample is evaluated on the rows left out of it, so the saving is not
the optimism of tuning on the test set itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tripwire.checks import check
from tripwire.checks.metrics.inputs import FAMILY_ALPHA, N_TESTS, eval_inputs, minority_class
from tripwire.context import AuditContext
from tripwire.errors import InputError
from tripwire.findings import Finding

COST_KEYS = ("fn", "fp", "tp", "tn", "over", "under", "positive", "matrix")


def parse_costs(spec: str | dict[str, Any]) -> dict[str, Any]:
    """Costs from ``'fn=5,fp=1'``, a JSON file path or a dict.

    A multiclass cost matrix is given as ``TRUE->PRED=COST`` pairs inline or as ``"matrix":
    {TRUE: {PRED: COST}}`` in JSON, and parsed into ``{"matrix": {TRUE: {PRED: COST}}}``.

    Examples
    --------
    >>> parse_costs("fn=5, fp=1")
    {'fn': 5.0, 'fp': 1.0}
    >>> parse_costs("low->high=5, high->low=2")
    {'matrix': {'low': {'high': 5.0}, 'high': {'low': 2.0}}}
    """
    if isinstance(spec, dict):
        raw: dict[str, Any] = dict(spec)
    elif spec.strip().endswith(".json") or Path(spec).is_file():
        try:
            raw = json.loads(Path(spec).read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"--costs: cannot read JSON costs from {spec}: {exc}") from exc
    else:
        raw = {}
        for part in spec.split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise InputError(
                    f"--costs: {part.strip()!r} is not key=value. Use e.g. 'fn=5,fp=1' "
                    "(classification) or 'over=1,under=3' (regression)."
                )
            k, v = part.split("=", 1)
            if "->" in k:  # class names keep their case
                true, pred = (x.strip() for x in k.split("->", 1))
                raw.setdefault("matrix", {}).setdefault(true, {})[pred] = v.strip()
            else:
                raw[k.strip().lower()] = v.strip()
    out: dict[str, Any] = {}
    for k, v in raw.items():
        if k == "matrix":
            out[k] = _parse_matrix(v)
            continue
        if k not in COST_KEYS:
            raise InputError(f"--costs: unknown key {k!r}; known keys: {', '.join(COST_KEYS)}")
        if k == "positive":
            out[k] = str(v)
            continue
        try:
            out[k] = float(v)
        except ValueError as exc:
            raise InputError(f"--costs: {k}={v!r} is not a number") from exc
        if out[k] < 0:
            raise InputError(f"--costs: {k} must be >= 0, got {v}")
    return out


def _parse_matrix(value: Any) -> dict[str, dict[str, float]]:
    if not isinstance(value, dict) or not all(isinstance(r, dict) for r in value.values()):
        raise InputError(
            '--costs: "matrix" must map each true class to {predicted class: cost}, e.g. '
            '{"matrix": {"3": {"8": 5}}}, or inline \'3->8=5\'.'
        )
    out: dict[str, dict[str, float]] = {}
    for true, row in value.items():
        for pred, cost in row.items():
            try:
                c = float(cost)
            except (TypeError, ValueError) as exc:
                raise InputError(f"--costs: {true}->{pred}={cost!r} is not a number") from exc
            if c < 0:
                raise InputError(f"--costs: {true}->{pred} must be >= 0, got {cost}")
            out.setdefault(str(true), {})[str(pred)] = c
    return out


def decision_costs(
    y_pos: np.ndarray, score: np.ndarray, costs: dict[str, float], thresholds: np.ndarray
) -> np.ndarray:
    """Per-row cost (rows x thresholds) of predicting positive when ``score >= threshold``."""
    pos = score[:, None] >= thresholds[None, :]
    yp = y_pos[:, None]
    return np.asarray(
        costs.get("tp", 0.0) * (pos & yp)
        + costs.get("fp", 0.0) * (pos & ~yp)
        + costs.get("fn", 0.0) * (~pos & yp)
        + costs.get("tn", 0.0) * (~pos & ~yp)
    )


def optimal_threshold(
    y_pos: np.ndarray, score: np.ndarray, costs: dict[str, float], weight: np.ndarray | None = None
) -> tuple[float, float]:
    """The threshold with the lowest mean cost (a sorted sweep over every distinct score) and
    that cost; ties go to the threshold nearest 0.5.

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1]); s = np.array([0.1, 0.4, 0.35, 0.8])
    >>> optimal_threshold(y.astype(bool), s, {"fn": 5, "fp": 1})
    (0.35, 0.25)
    """
    w = np.ones(len(score)) if weight is None else weight
    order = np.argsort(-score, kind="mergesort")
    s, yo, wo = score[order], y_pos[order], w[order]
    starts = np.r_[0, np.flatnonzero(np.diff(s) != 0) + 1]
    pos_w = np.add.reduceat(wo * yo, starts)
    neg_w = np.add.reduceat(wo * ~yo, starts)
    tp = np.r_[0.0, np.cumsum(pos_w)]  # threshold above everything, then each distinct score
    fp = np.r_[0.0, np.cumsum(neg_w)]
    P, N = tp[-1], fp[-1]
    cost = (
        costs.get("tp", 0.0) * tp
        + costs.get("fp", 0.0) * fp
        + costs.get("fn", 0.0) * (P - tp)
        + costs.get("tn", 0.0) * (N - fp)
    ) / w.sum()
    cand = np.r_[np.inf, s[starts]]
    best = np.flatnonzero(np.isclose(cost, cost.min(), rtol=0, atol=1e-12))
    pick = best[np.argmin(np.abs(np.where(np.isfinite(cand[best]), cand[best], 2.0) - 0.5))]
    return float(cand[pick]), float(cost[pick])


def _oob_saving(
    values: np.ndarray, fit_and_eval: Any, rng: np.random.Generator, n_boot: int, level: float
) -> tuple[float, float, float]:
    n = len(values)
    savings = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        oob = np.setdiff1d(np.arange(n), idx)
        if len(oob) < 10:
            continue
        savings.append(fit_and_eval(idx, oob))
    arr = np.asarray(savings)
    a = (1 - level) / 2
    lo, hi = np.quantile(arr, [a, 1 - a])
    return float(arr.mean()), float(lo), float(hi)


@check("metrics.costs", mode="metrics", requires=("test", "target", "model"), order=61)
def check_costs(ctx: AuditContext) -> Iterator[Finding]:
    """Expected cost per decision now and at the cost-optimal threshold (or shift)."""
    spec = ctx.option("costs")
    if not spec:
        return
    costs = parse_costs(spec)
    inp = eval_inputs(ctx)
    n_boot = int(ctx.option("n_boot", 300))
    level = 1 - FAMILY_ALPHA / N_TESTS
    rng = ctx.rng(31)
    w = np.ones(len(inp.y)) if inp.weight is None else inp.weight
    if inp.task == "regression":
        if "matrix" in costs:
            raise InputError(
                "--costs: a cost matrix (TRUE->PRED=COST) is for classification; for this "
                "regression target give 'over=1,under=3'."
            )
        yield from _regression_costs(inp.y, inp.pred, w, costs, rng, n_boot, level)
        return
    if inp.proba is None:
        raise InputError(
            "--costs for classification needs predicted probabilities: pass a model with "
            "predict_proba (--model) or probability columns (--probabilities)."
        )
    if "matrix" in costs:
        from tripwire.checks.metrics.cost_matrix import multiclass_costs

        yield from multiclass_costs(
            inp.y,
            inp.pred,
            inp.proba,
            inp.classes,
            costs["matrix"],
            w,
            level=level,
            random_state=ctx.random_state,
        )
        return
    if len(inp.classes) != 2:
        raise InputError(
            f"--costs with fn/fp needs a binary target; this one has {len(inp.classes)} classes "
            f"({', '.join(str(c) for c in inp.classes[:8])}). Give a cost matrix instead: "
            "TRUE->PRED=COST pairs such as '3->8=5,8->3=2' (unnamed errors cost 1)."
        )
    if not ({"fn", "fp"} & set(costs)):
        raise InputError("--costs for classification needs fn and/or fp, e.g. 'fn=5,fp=1'")
    positive = costs.get("positive")
    pos_class = (
        next((c for c in inp.classes if str(c) == positive), None)
        if positive is not None
        else minority_class(inp)
    )
    if pos_class is None:
        raise InputError(
            f"--costs: positive={positive!r} is not a class of the target ({inp.classes})"
        )
    j = inp.classes.index(pos_class)
    score = inp.proba[:, j]
    ypos = np.asarray(inp.y == pos_class, dtype=bool)
    num = {k: v for k, v in costs.items() if k != "positive"}
    current_pred = np.asarray(inp.pred == pos_class, dtype=bool)
    cur_rows = decision_costs(ypos, current_pred.astype(float), num, np.array([0.5]))[:, 0]
    cur_cost = float(np.average(cur_rows, weights=w))
    t_star, best_cost = optimal_threshold(ypos, score, num, w)
    c_fp, c_tn, c_fn, c_tp = (num.get(k, 0.0) for k in ("fp", "tn", "fn", "tp"))
    bayes = (c_fp - c_tn) / max((c_fp - c_tn) + (c_fn - c_tp), 1e-12)

    def saving(idx: np.ndarray, oob: np.ndarray) -> float:
        t, _ = optimal_threshold(ypos[idx], score[idx], num, w[idx])
        new = decision_costs(ypos[oob], score[oob], num, np.array([t]))[:, 0]
        return float(np.average(cur_rows[oob] - new, weights=w[oob]))

    mean_s, lo, hi = _oob_saving(score, saving, rng, n_boot, level)
    material = lo > 0 and mean_s >= 0.02 * max(cur_cost, 1e-12)
    ev = {
        "costs": num,
        "positive_class": str(pos_class),
        "cost_per_decision_current": round(cur_cost, 6),
        "cost_optimal_threshold": t_star,
        "cost_at_optimal_threshold_on_test": round(best_cost, 6),
        "bayes_threshold_if_calibrated": round(bayes, 6),
        "saving_out_of_sample": {"mean": mean_s, "low": lo, "high": hi, "level": level},
        "charts": [_cost_curve(ypos, score, num, w, t_star)],
    }
    yield Finding(
        check="metrics.costs",
        mode="metrics",
        severity="warning" if material else "info",
        title=(
            f"Cost per decision {cur_cost:.4g} at the current threshold; "
            f"{best_cost:.4g} at the cost-optimal threshold {t_star:.3g}"
        ),
        detail=(
            f"With costs {num} (positive class {pos_class!r}), the threshold that minimises the "
            f"expected cost on test is {t_star:.3g} (a calibrated model's would be {bayes:.3g}). "
            f"Chosen on resamples and scored on the rows left out, it saves {mean_s:.4g} per "
            f"decision [{lo:.4g}, {hi:.4g}]"
            + (", a material saving." if material else "; not a material, significant saving.")
        ),
        evidence=ev,
        action=(
            f"Predict {pos_class!r} when its probability is at least {t_star:.3g}, not by argmax."
            if material
            else "Keep the threshold; optimise and report expected cost per decision."
        ),
    )


def _cost_curve(
    ypos: np.ndarray, score: np.ndarray, costs: dict[str, float], w: np.ndarray, t_star: float
) -> dict[str, Any]:
    from tripwire import charts

    grid = np.linspace(0, 1, 101)
    cost = np.average(decision_costs(ypos, score, costs, grid), axis=0, weights=w)
    return charts.line(
        grid.round(2).tolist(),
        {"cost per decision": cost.tolist()},
        title="Expected cost per decision by threshold",
        x_label="threshold",
        y_label="cost",
        markers=[{"axis": "x", "value": t_star, "label": "cost-optimal"}],
    )


def _regression_costs(
    y: np.ndarray,
    pred: np.ndarray,
    w: np.ndarray,
    costs: dict[str, Any],
    rng: np.random.Generator,
    n_boot: int,
    level: float,
) -> Iterator[Finding]:
    over, under = float(costs.get("over", 1.0)), float(costs.get("under", 1.0))
    if "over" not in costs and "under" not in costs:
        raise InputError("--costs for regression needs over and/or under, e.g. 'over=1,under=3'")
    q = under / (over + under)
    resid = y - pred

    def cost(r: np.ndarray) -> np.ndarray:
        return np.where(r > 0, under * r, -over * r)

    def wquantile(r: np.ndarray, ww: np.ndarray) -> float:
        o = np.argsort(r)
        c = np.cumsum(ww[o])
        return float(r[o][min(np.searchsorted(c, q * c[-1]), len(r) - 1)])

    cur = float(np.average(cost(resid), weights=w))
    shift = wquantile(resid, w)
    aware = float(np.average(cost(resid - shift), weights=w))

    def saving(idx: np.ndarray, oob: np.ndarray) -> float:
        s = wquantile(resid[idx], w[idx])
        return float(np.average(cost(resid[oob]) - cost(resid[oob] - s), weights=w[oob]))

    mean_s, lo, hi = _oob_saving(resid, saving, rng, n_boot, level)
    material = lo > 0 and mean_s >= 0.02 * max(cur, 1e-12)
    yield Finding(
        check="metrics.costs",
        mode="metrics",
        severity="warning" if material else "info",
        title=(
            f"Asymmetric cost {cur:.4g} per prediction as trained (RMSE-optimal); {aware:.4g} "
            f"when predicting the {q:.0%} quantile instead"
        ),
        detail=(
            f"Over-prediction costs {over:g} and under-prediction {under:g} per unit, so the "
            f"cost-optimal prediction is the {q:.0%} conditional quantile, not the mean. Shifting "
            f"predictions by {shift:.4g} (the {q:.0%} quantile of residuals), chosen on resamples "
            f"and scored on the rows left out, saves {mean_s:.4g} per prediction [{lo:.4g}, {hi:.4g}]."
        ),
        evidence={
            "costs": {"over": over, "under": under},
            "quantile": q,
            "cost_current": cur,
            "cost_shifted": aware,
            "shift": shift,
            "saving_out_of_sample": {"mean": mean_s, "low": lo, "high": hi, "level": level},
        },
        action=(
            f"Train with the pinball (quantile) loss at alpha={q:.2f} "
            "(e.g. HistGradientBoostingRegressor(loss='quantile', quantile=...)) or shift predictions."
            if material
            else "The model's errors are already cheap under these costs; report the cost."
        ),
    )
