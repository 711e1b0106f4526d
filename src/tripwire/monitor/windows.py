"""Window evaluation: what happened to a model's inputs, outputs and quality in each window.

A window is ``[start, start + window_seconds)`` in event time (the prediction's timestamp). It
is *complete* once a prediction with a later timestamp has arrived, or once wall-clock time is
a full window past its end. Windows are re-evaluated whenever their prediction or feedback
counts change, so late labels update the realized performance of past windows (and the
incidents derived from them, see :mod:`tripwire.monitor.alerts`).

Each window result holds

- ``quality``: schema violations, missing values, unseen categories, out-of-range values,
  compared with the reference;
- ``drift``: per-feature two-sample tests against the reference (:mod:`tripwire.stats.univariate`),
  one Benjamini-Hochberg decision across features, with a minimum effect size; when the
  reference is a saved profile, the window is profiled and compared sketch to sketch
  (:mod:`tripwire.scale.drift`), the sketch error taken off the effect;
- ``prediction_drift``: the same test on the model's outputs (needs reference predictions);
- ``performance``: the estimate from the model's own confidence before labels arrive (the
  expected accuracy; when the reference carries labels, predictions and probabilities the
  confidence is first calibrated on it by histogram binning, the idea of CBPE), the realized
  metric over labelled rows, and a blend of the two with a normal interval weighting each part
  by its share of rows;
- ``volume`` and ``latency``: robust anomaly scores against the preceding complete windows.

References
----------
Guo, C., Pleiss, G., Sun, Y. and Weinberger, K. Q. (2017). On calibration of modern neural
networks. ICML.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tripwire.monitor import window_stats as ws
from tripwire.monitor.store import ModelInfo, Store

DEFAULTS: dict[str, Any] = {
    "alpha": 0.01,  # false-alarm rate of one window's drift decision (BH across features)
    "min_effect": 0.1,  # KS distance / total variation distance that counts as a shift
    "min_labels": 30,  # labelled rows before a realized metric is reported
    "tolerance": 0.02,  # performance drop (absolute) that is tolerated
    "baseline_windows": 3,  # labelled windows forming the baseline when the reference has none
    "quality_tolerance": 0.05,  # extra share of bad values over the reference before a flag
    "history": 24,  # preceding windows used for volume and latency baselines
    "min_history": 5,
    "volume_z": 4.0,
    "latency_factor": 2.0,
    "consecutive": 2,  # flagged windows in a row before an incident opens
    "resolve_after": 2,  # clean windows in a row before it resolves
}


def settings(model: ModelInfo) -> dict[str, Any]:
    out = dict(DEFAULTS)
    out.update({k: v for k, v in model.config.items() if k in DEFAULTS})
    return out


@dataclass
class ReferenceContext:
    """What the reference contributes to every window, computed once per evaluation run."""

    frame: pd.DataFrame | None
    kinds: dict[str, str]
    ranges: dict[str, tuple[float, float]]
    categories: dict[str, set[str]]
    missing: dict[str, float]
    predictions: pd.Series | None
    baseline: dict[str, Any] | None
    calibration: dict[str, Any] | None = None
    profile: Any = None  # a DatasetProfile when the reference was given as one

    @classmethod
    def build(cls, task: str, ref: Mapping[str, Any] | None) -> ReferenceContext | None:
        if not ref:
            return None
        if "profile" in ref:
            return cls.from_profile(ref["profile"])
        frame = pd.DataFrame.from_records(ref["records"])
        kinds = {c: _kind(frame[c]) for c in frame.columns}
        ranges, categories = {}, {}
        for c, kind in kinds.items():
            values = frame[c].dropna()
            if kind == "numeric" and len(values):
                num = pd.to_numeric(values, errors="coerce").dropna()
                ranges[c] = (float(num.min()), float(num.max()))
            elif kind == "categorical":
                categories[c] = set(values.astype(str))
        preds = ref.get("predictions")
        baseline = None
        calibration = None
        if preds is not None and ref.get("labels") is not None:
            baseline = ws.realized_metric(task, ref["labels"], preds)
            baseline["source"] = "reference"
            conf = _confidence(preds, ref.get("probabilities") or [])
            if task == "classification" and conf is not None:
                correct = np.array([str(a) == str(b) for a, b in zip(ref["labels"], preds)], float)
                calibration = ws.fit_calibration(conf, correct)
        return cls(
            frame=frame,
            kinds=kinds,
            ranges=ranges,
            categories=categories,
            missing={c: float(frame[c].isna().mean()) for c in frame.columns},
            predictions=None if preds is None else pd.Series(preds),
            baseline=baseline,
            calibration=calibration,
        )

    @classmethod
    def from_profile(cls, data: Mapping[str, Any]) -> ReferenceContext:
        """The reference as a saved profile: ranges, categories and missing rates come from
        its exact parts; unseen categories are checked only for columns whose categories the
        profile holds exactly (at most ~1,000 distinct, or every one in the frequent-items
        sketch)."""
        from tripwire.scale.profile import DatasetProfile

        prof = DatasetProfile.from_dict(data, where="the stored reference profile")
        ranges, categories = {}, {}
        for name, col in prof.columns.items():
            if col.kind == "numeric" and col.n:
                ranges[name] = (col.minimum, col.maximum)
            elif col.kind == "categorical":
                if col.small is not None:
                    categories[name] = {str(v) for v in col.small}
                elif col.share_error() == 0:
                    categories[name] = set(col.category_counts())
        return cls(
            frame=None,
            kinds={name: col.kind for name, col in prof.columns.items()},
            ranges=ranges,
            categories=categories,
            missing={name: col.missing_rate for name, col in prof.columns.items()},
            predictions=None,
            baseline=None,
            profile=prof,
        )


def _kind(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "categorical"
    if pd.api.types.is_numeric_dtype(values):
        return "numeric"
    return "categorical"


def evaluate_window(
    task: str,
    cfg: Mapping[str, Any],
    ref: ReferenceContext | None,
    rows: Mapping[str, Any],
    *,
    window_start: int,
    window_seconds: int,
    complete: bool,
) -> dict[str, Any]:
    """Statistics of one window that depend on the window and the reference only."""
    n = len(rows["ids"])
    frame = pd.DataFrame.from_records(rows["features"]) if n else pd.DataFrame()
    labels = rows["label"]
    n_feedback = sum(v is not None for v in labels)
    result: dict[str, Any] = {
        "window_start": window_start,
        "window_end": window_start + window_seconds,
        "n_predictions": n,
        "n_feedback": n_feedback,
        "complete": complete,
        "quality": _quality(frame, ref, cfg),
        "drift": _drift(frame, ref, cfg),
        "prediction_drift": _prediction_drift(task, rows["prediction"], ref, cfg),
        "performance": _performance(task, rows, cfg, ref.calibration if ref else None),
        "latency": _latency_stats(rows["latency_ms"]),
        "volume": {"n": n},
    }
    return result


def _quality(
    frame: pd.DataFrame, ref: ReferenceContext | None, cfg: Mapping[str, Any]
) -> dict[str, Any]:
    tol = float(cfg["quality_tolerance"])
    out: dict[str, Any] = {
        "missing": {},
        "unseen_categories": {},
        "out_of_range": {},
        "type_errors": {},
    }
    if ref is None or frame.empty:
        out.update(missing_columns=[], extra_columns=[], flag=False, problems=[])
        return out
    problems: list[str] = []
    missing_cols = sorted(set(ref.kinds) - set(frame.columns))
    extra_cols = sorted(set(frame.columns) - set(ref.kinds))
    if missing_cols:
        problems.append(f"columns missing from the inputs: {', '.join(missing_cols)}")
    if extra_cols:
        problems.append(f"columns not in the reference: {', '.join(extra_cols)}")
    for c, kind in ref.kinds.items():
        if c not in frame.columns:
            continue
        col = frame[c]
        miss = float(col.isna().mean())
        out["missing"][c] = miss
        if miss > ref.missing.get(c, 0.0) + tol:
            problems.append(f"{c}: {miss:.1%} missing (reference {ref.missing.get(c, 0.0):.1%})")
        present = col.dropna()
        if not len(present):
            continue
        if kind == "numeric":
            num = pd.to_numeric(present, errors="coerce")
            bad = float(num.isna().mean())
            if bad > 0:
                out["type_errors"][c] = bad
                problems.append(f"{c}: {bad:.1%} of values are not numbers")
            lo, hi = ref.ranges.get(c, (-math.inf, math.inf))
            ok = num.dropna()
            share = float(((ok < lo) | (ok > hi)).mean()) if len(ok) else 0.0
            out["out_of_range"][c] = share
            if share > tol:
                problems.append(
                    f"{c}: {share:.1%} of values outside the reference range [{lo:g}, {hi:g}]"
                )
        elif c in ref.categories:
            known = ref.categories[c]
            unseen = present.astype(str)
            mask = ~unseen.isin(known)
            share = float(mask.mean())
            out["unseen_categories"][c] = {
                "share": share,
                "values": sorted(unseen[mask].value_counts().head(5).index.tolist()),
            }
            if share > tol:
                problems.append(
                    f"{c}: {share:.1%} of values are categories unseen in the reference"
                )
    out.update(
        missing_columns=missing_cols,
        extra_columns=extra_cols,
        problems=problems,
        flag=bool(problems),
    )
    return out


def _drift(
    frame: pd.DataFrame, ref: ReferenceContext | None, cfg: Mapping[str, Any]
) -> dict[str, Any]:
    if ref is None or frame.empty:
        return {"columns": {}, "flag": False, "drifted": [], "tested": 0, "share": 0.0}
    cur = pd.DataFrame(
        {c: _as_kind(frame[c], k) for c, k in ref.kinds.items() if c in frame.columns}
    )
    if ref.profile is not None:
        return ws.profile_drift_table(
            ref.profile, cur, alpha=float(cfg["alpha"]), min_effect=float(cfg["min_effect"])
        )
    assert ref.frame is not None
    return ws.drift_table(
        ref.frame, cur, ref.kinds, alpha=float(cfg["alpha"]), min_effect=float(cfg["min_effect"])
    )


def _as_kind(values: pd.Series, kind: str) -> pd.Series:
    return pd.to_numeric(values, errors="coerce") if kind == "numeric" else values


def _prediction_drift(
    task: str, predictions: Sequence[Any], ref: ReferenceContext | None, cfg: Mapping[str, Any]
) -> dict[str, Any]:
    if ref is None or ref.predictions is None or not predictions:
        return {"flag": False, "tested": False}
    kind = "categorical" if task == "classification" else "numeric"
    cur = pd.Series(list(predictions))
    return ws.column_drift(
        _as_kind(ref.predictions, kind),
        _as_kind(cur, kind),
        kind,
        alpha=float(cfg["alpha"]),
        min_effect=float(cfg["min_effect"]),
    )


def _performance(
    task: str,
    rows: Mapping[str, Any],
    cfg: Mapping[str, Any],
    calibration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    preds, labels, probas = rows["prediction"], rows["label"], rows["probabilities"]
    n = len(preds)
    out: dict[str, Any] = {"metric": "accuracy" if task == "classification" else "mae"}
    labelled = [i for i, y in enumerate(labels) if y is not None]
    out["label_coverage"] = len(labelled) / n if n else 0.0
    realized = None
    if len(labelled) >= int(cfg["min_labels"]):
        realized = ws.realized_metric(
            task, [labels[i] for i in labelled], [preds[i] for i in labelled]
        )
    out["realized"] = realized
    confidence = _confidence(preds, probas) if task == "classification" else None
    if confidence is None or not n:
        out["estimated"] = None
        out["blended"] = realized
        return out
    confidence = ws.calibrate(confidence, calibration)
    est = float(confidence.mean())
    # Sum of independent Bernoulli(p_i): the accuracy of these n predictions if calibrated.
    est_se = float(np.sqrt((confidence * (1 - confidence)).sum()) / n)
    out["estimated"] = {
        "value": est,
        "low": est - 1.96 * est_se,
        "high": est + 1.96 * est_se,
        "n": n,
        "method": "calibrated on reference" if calibration is not None else "raw confidence",
    }
    if realized is None:
        k = len(labelled)
        if k:
            # Too few labels for a realized metric: still use them in the blend.
            correct = np.array([str(labels[i]) == str(preds[i]) for i in labelled], float)
            realized_sum, realized_var = float(correct.sum()), float(correct.var() * k)
        else:
            realized_sum, realized_var = 0.0, 0.0
    else:
        k = realized["n"]
        realized_sum, realized_var = realized["value"] * k, (realized["se"] * k) ** 2
    mask = np.ones(n, bool)
    mask[labelled] = False
    rest = confidence[mask]
    value = (realized_sum + float(rest.sum())) / n
    se = float(np.sqrt(realized_var + float((rest * (1 - rest)).sum()))) / n
    out["blended"] = {
        "value": value,
        "low": value - 1.96 * se,
        "high": value + 1.96 * se,
        "n": n,
        "labelled": len(labelled),
    }
    return out


def _confidence(preds: Sequence[Any], probas: Sequence[Any]) -> np.ndarray | None:
    if not probas or any(p is None for p in probas):
        return None
    conf = np.empty(len(preds))
    for i, (pred, proba) in enumerate(zip(preds, probas)):
        p = proba.get(str(pred))
        conf[i] = float(p) if p is not None else float(max(proba.values(), default=np.nan))
    if not np.isfinite(conf).all():
        return None
    return np.clip(conf, 0.0, 1.0)


def _latency_stats(latency: Sequence[Any]) -> dict[str, Any]:
    vals = np.array([v for v in latency if v is not None], float)
    if not len(vals):
        return {"p50": None, "p99": None, "n": 0}
    return {
        "p50": float(np.percentile(vals, 50)),
        "p99": float(np.percentile(vals, 99)),
        "n": len(vals),
    }


def apply_history(
    results: list[dict[str, Any]], cfg: Mapping[str, Any], reference_baseline: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Flags that need earlier windows: performance against a baseline, volume, latency.

    ``results`` are all complete windows in time order; they are updated in place. Returns
    the performance baseline used.
    """
    baseline = reference_baseline
    if baseline is None:
        first = [r["performance"]["realized"] for r in results if r["performance"].get("realized")]
        first = first[: int(cfg["baseline_windows"])]
        if len(first) == int(cfg["baseline_windows"]):
            n = sum(f["n"] for f in first)
            value = sum(f["value"] * f["n"] for f in first) / n
            baseline = {
                "metric": first[0]["metric"],
                "value": value,
                "n": n,
                "source": "first labelled windows",
            }
    tol = float(cfg["tolerance"])
    hist, min_hist = int(cfg["history"]), int(cfg["min_history"])
    for i, r in enumerate(results):
        perf = r["performance"]
        perf["baseline"] = baseline
        target = perf.get("blended") or perf.get("realized")
        if baseline is None or target is None:
            perf["flag"] = None  # unknown: neither raises nor clears an incident
        elif perf["metric"] == "accuracy":
            perf["flag"] = bool(target["high"] < baseline["value"] - tol)
        else:
            perf["flag"] = bool(target["low"] > baseline["value"] * (1 + tol) + tol)
        prev = results[max(0, i - hist) : i]
        vol = r["volume"]
        if len(prev) >= min_hist:
            logs = np.log1p([p["n_predictions"] for p in prev])
            med = float(np.median(logs))
            mad = float(np.median(np.abs(logs - med))) * 1.4826
            z = (math.log1p(r["n_predictions"]) - med) / max(mad, 0.1)
            vol.update(
                expected=float(np.expm1(med)), z=z, flag=bool(abs(z) > float(cfg["volume_z"]))
            )
        else:
            vol.update(expected=None, z=None, flag=None)
        lat = r["latency"]
        p99s = [p["latency"]["p99"] for p in prev if p["latency"].get("p99") is not None]
        if lat.get("p99") is not None and len(p99s) >= min_hist:
            usual = float(np.median(p99s))
            lat.update(
                usual_p99=usual, flag=bool(lat["p99"] > float(cfg["latency_factor"]) * usual)
            )
        else:
            lat.update(usual_p99=None, flag=None)
    return baseline


def evaluate_model(
    store: Store, model: ModelInfo, *, now: float | None = None, force: bool = False
) -> list[dict[str, Any]]:
    """Evaluate every window whose data changed since its last evaluation.

    Returns all stored window results (time order) after the run.
    """
    now = time.time() if now is None else now
    cfg = settings(model)
    width = model.window_seconds
    counts = store.window_counts(model.id)
    stored = store.stored_windows(model.id)
    watermark = store.watermark(model.id) or 0.0
    ref: ReferenceContext | None = None
    ref_loaded = False
    changed = []
    for start, n_pred, n_fb in counts:
        end = start + width
        complete = end <= watermark or end <= now - width
        if not force and stored.get(start) == (n_pred, n_fb, complete):
            continue
        if not ref_loaded:
            ref, ref_loaded = ReferenceContext.build(model.task, store.reference(model.id)), True
        rows = store.window_rows(model.id, start)
        changed.append(
            evaluate_window(
                model.task,
                cfg,
                ref,
                rows,
                window_start=start,
                window_seconds=width,
                complete=complete,
            )
        )
    if changed:
        store.save_windows(model.id, changed)
    if not ref_loaded:
        ref = ReferenceContext.build(model.task, store.reference(model.id))
    results = store.windows(model.id)
    before = [json.dumps(r, sort_keys=True, default=str) for r in results]
    complete_results = [r for r in results if r["complete"]]
    apply_history(complete_results, cfg, ref.baseline if ref else None)
    # Only windows whose history-dependent flags changed are written back.
    store.save_windows(
        model.id,
        [r for r, b in zip(results, before) if json.dumps(r, sort_keys=True, default=str) != b],
    )
    return results
