"""Model metrics by name, and a panel of them with bootstrap confidence intervals.

Every value equals scikit-learn's metric of the same name (the tests compare them); the panel
adds a percentile-bootstrap interval (Efron and Tibshirani, 1993) computed on the same
resamples for every metric, so intervals of different metrics are comparable. Sample weights
are honoured by the value and by the resampling (rows are drawn, each keeps its weight).

References
----------
Efron, B. and Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tripwire.stats.bootstrap import resample_counts

#: Metrics of classification that need predicted labels, and those that need probabilities.
LABEL_METRICS = ("accuracy", "balanced_accuracy", "mcc", "macro_f1")
PROBA_METRICS = ("roc_auc", "pr_auc", "log_loss", "brier", "ece")
REGRESSION_METRICS = (
    "mae",
    "rmse",
    "r2",
    "mape",
    "pinball_0.1",
    "pinball_0.5",
    "pinball_0.9",
)
#: Lower-is-better metrics (losses and errors); all others are higher-is-better.
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "ece", "mae", "rmse", "mape", "mse", "median_ae"})


@dataclass(frozen=True)
class MetricValue:
    """A metric's value on the data with a bootstrap interval (NaN bounds when undefined)."""

    value: float
    low: float
    high: float
    name: str
    higher_is_better: bool

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for k in ("value", "low", "high"):
            out[k] = None if not np.isfinite(out[k]) else round(float(out[k]), 6)
        return out


def higher_is_better(name: str) -> bool:
    """Whether a larger value of metric ``name`` is better.

    Examples
    --------
    >>> higher_is_better("roc_auc"), higher_is_better("pinball_0.9")
    (True, False)
    """
    return not (name in LOWER_IS_BETTER or name.startswith("pinball_"))


def _proba_matrix(proba: Any, labels: Sequence[Any]) -> np.ndarray:
    p = np.asarray(proba, dtype=float)
    if p.ndim == 1:
        p = np.column_stack([1 - p, p])
    if p.shape[1] != len(labels):
        raise ValueError(
            f"probabilities have {p.shape[1]} columns but there are {len(labels)} classes "
            f"({list(labels)[:10]}); pass labels= in the column order of proba"
        )
    return p


def _labels(y_true: np.ndarray, y_pred: Any, labels: Any) -> list[Any]:
    if labels is not None:
        return list(labels)
    values = [y_true] if y_pred is None else [y_true, np.asarray(y_pred)]
    return list(np.unique(np.concatenate(values)))


def compute_metric(
    name: str,
    y_true: Any,
    y_pred: Any = None,
    proba: Any = None,
    *,
    labels: Any = None,
    sample_weight: Any = None,
) -> float:
    """The value of metric ``name``, equal to scikit-learn's.

    Names: ``accuracy``, ``balanced_accuracy``, ``mcc``, ``macro_f1``, ``precision:C``,
    ``recall:C``, ``f1:C`` (class ``C``), ``roc_auc`` (one-vs-rest macro when multiclass),
    ``pr_auc`` (average precision, macro one-vs-rest when multiclass), ``log_loss``, ``brier``
    (multiclass: mean squared distance to the one-hot label), ``ece``; regression ``mae``,
    ``rmse``, ``mse``, ``r2``, ``mape`` (NaN when a true value is 0), ``median_ae`` and
    ``pinball_Q`` (quantile ``Q``). ``proba`` is an (n, k) matrix in the order of ``labels``
    (sorted classes by default), or the positive-class column for two classes. Returns NaN
    when the metric is undefined on this sample (e.g. ROC-AUC with one class present).

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1, 1]); p = np.array([0.1, 0.6, 0.4, 0.8, 0.9])
    >>> compute_metric("accuracy", y, (p > 0.5).astype(int))
    0.6
    >>> round(compute_metric("roc_auc", y, proba=p), 4)
    0.8333
    """
    from sklearn import metrics as skm

    yt = np.asarray(y_true)
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if len(yt) == 0:
        raise ValueError(f"compute_metric({name!r}) needs at least one row")
    if name in ("mae", "rmse", "mse", "r2", "mape", "median_ae") or name.startswith("pinball_"):
        if y_pred is None:
            raise ValueError(f"metric {name!r} needs y_pred (predicted values)")
        yt_f, yp = yt.astype(float), np.asarray(y_pred, dtype=float)
        if name == "mae":
            return float(skm.mean_absolute_error(yt_f, yp, sample_weight=w))
        if name == "mse":
            return float(skm.mean_squared_error(yt_f, yp, sample_weight=w))
        if name == "rmse":
            return float(np.sqrt(skm.mean_squared_error(yt_f, yp, sample_weight=w)))
        if name == "r2":
            if len(yt_f) < 2 or np.ptp(yt_f) == 0:
                return float("nan")
            return float(skm.r2_score(yt_f, yp, sample_weight=w))
        if name == "mape":
            if np.any(yt_f == 0):
                return float("nan")
            return float(skm.mean_absolute_percentage_error(yt_f, yp, sample_weight=w))
        if name == "median_ae":
            return float(np.median(np.abs(yt_f - yp)))
        q = float(name.split("_", 1)[1])
        return float(skm.mean_pinball_loss(yt_f, yp, alpha=q, sample_weight=w))

    classes = _labels(yt, y_pred, labels)
    if name in LABEL_METRICS or name.split(":", 1)[0] in ("precision", "recall", "f1"):
        if y_pred is None:
            raise ValueError(f"metric {name!r} needs y_pred (predicted labels)")
        yp = np.asarray(y_pred)
        if name == "accuracy":
            return float(skm.accuracy_score(yt, yp, sample_weight=w))
        if name == "balanced_accuracy":
            return _balanced_accuracy(yt, yp, w)
        if name == "mcc":
            return float(skm.matthews_corrcoef(yt, yp, sample_weight=w))
        if name == "macro_f1":
            return float(
                skm.f1_score(
                    yt, yp, labels=classes, average="macro", sample_weight=w, zero_division=0
                )
            )
        kind, cls = name.split(":", 1)
        label = _match_class(cls, classes)
        fn = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}[
            kind
        ]
        return float(fn(yt, yp, labels=[label], average="macro", sample_weight=w, zero_division=0))

    if name in PROBA_METRICS:
        if proba is None:
            raise ValueError(f"metric {name!r} needs proba (predicted probabilities)")
        p = _proba_matrix(proba, classes)
        onehot = (yt[:, None] == np.asarray(classes)[None, :]).astype(float)
        present = onehot.sum(axis=0) > 0
        if name == "log_loss":
            return float(skm.log_loss(yt, p, labels=classes, sample_weight=w))
        if name == "brier":
            per_row = ((p - onehot) ** 2).sum(axis=1)
            if len(classes) == 2:
                per_row = per_row / 2  # sklearn's binary Brier: positive class only
            return float(np.average(per_row, weights=w))
        if name == "ece":
            from tripwire.stats.calibration import expected_calibration_error

            return expected_calibration_error(yt, p, labels=classes, sample_weight=w)
        if present.sum() < 2:
            return float("nan")
        if len(classes) == 2:
            fn2 = skm.roc_auc_score if name == "roc_auc" else skm.average_precision_score
            return float(fn2(onehot[:, 1], p[:, 1], sample_weight=w))
        cols = np.flatnonzero(present)
        if name == "roc_auc":
            scores = [skm.roc_auc_score(onehot[:, j], p[:, j], sample_weight=w) for j in cols]
        else:
            scores = [
                skm.average_precision_score(onehot[:, j], p[:, j], sample_weight=w) for j in cols
            ]
        return float(np.mean(scores))
    raise ValueError(
        f"unknown metric {name!r}; known: {', '.join(LABEL_METRICS + PROBA_METRICS + REGRESSION_METRICS)}, "
        "precision:C, recall:C, f1:C, mse, median_ae"
    )


def _match_class(text: str, classes: Sequence[Any]) -> Any:
    for c in classes:
        if str(c) == text:
            return c
    raise ValueError(f"class {text!r} is not one of {list(classes)[:20]}")


def _balanced_accuracy(yt: np.ndarray, yp: np.ndarray, w: np.ndarray | None) -> float:
    # sklearn's balanced_accuracy_score, without its warning when a predicted class is absent
    ww = np.ones(len(yt)) if w is None else w
    recalls = []
    for c in np.unique(yt):
        m = yt == c
        recalls.append(float(np.sum(ww[m] * (yp[m] == c)) / np.sum(ww[m])))
    return float(np.mean(recalls))


def default_metrics(
    task: str, labels: Sequence[Any], *, has_pred: bool, has_proba: bool
) -> list[str]:
    """The metric names of the panel for ``task`` (binary, multiclass or regression).

    Examples
    --------
    >>> default_metrics("regression", [], has_pred=True, has_proba=False)[:3]
    ['mae', 'rmse', 'r2']
    """
    if task == "regression":
        return list(REGRESSION_METRICS)
    names: list[str] = []
    if has_pred:
        names += list(LABEL_METRICS)
        for c in labels:
            names += [f"precision:{c}", f"recall:{c}", f"f1:{c}"]
    if has_proba:
        names += list(PROBA_METRICS)
    return names


def metric_panel(
    y_true: Any,
    y_pred: Any = None,
    proba: Any = None,
    *,
    task: str,
    labels: Any = None,
    sample_weight: Any = None,
    n_boot: int = 500,
    random_state: int = 0,
    metrics: Sequence[str] | None = None,
    level: float = 0.95,
) -> dict[str, MetricValue]:
    """Every metric of ``task`` with a percentile-bootstrap interval.

    ``task`` is ``binary``, ``multiclass``, ``classification`` or ``regression``. For
    classification without ``y_pred`` the predicted label is the most probable class. All
    metrics share the same ``n_boot`` resamples of rows (stratified by true class in
    classification, so every class keeps its count and rare-class metrics stay defined).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 300); p = np.clip(y * 0.6 + rng.uniform(0, 0.4, 300), 0, 1)
    >>> panel = metric_panel(y, proba=p, task="binary", n_boot=100)
    >>> m = panel["accuracy"]
    >>> m.low <= m.value <= m.high, m.higher_is_better
    (True, True)
    """
    yt = np.asarray(y_true)
    n = len(yt)
    if n == 0:
        raise ValueError("metric_panel needs at least one row")
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if w is not None and len(w) != n:
        raise ValueError(f"sample_weight has {len(w)} values for {n} rows")
    if task not in ("binary", "multiclass", "classification", "regression"):
        raise ValueError(
            f"task must be binary, multiclass, classification or regression, not {task!r}"
        )
    classes: list[Any] = []
    yp = None if y_pred is None else np.asarray(y_pred)
    if task != "regression":
        classes = _labels(yt, yp, labels)
        if proba is not None:
            p = _proba_matrix(proba, classes)
            proba = p
            if yp is None:
                yp = np.asarray(classes, dtype=object)[p.argmax(axis=1)]
                yp = yp.astype(yt.dtype) if yt.dtype != object else yp
    elif yp is None:
        raise ValueError("a regression panel needs y_pred")
    names = (
        list(metrics)
        if metrics is not None
        else default_metrics(task, classes, has_pred=yp is not None, has_proba=proba is not None)
    )

    rng = np.random.default_rng(random_state)
    strata = yt if task != "regression" else None
    counts = resample_counts(n, n_boot, rng, strata).astype(float) if n_boot > 0 else None
    boot_w = None if counts is None else counts * (np.ones(n) if w is None else w)[None, :]
    fast = _FastBootstrap(yt, yp, proba, classes, boot_w) if boot_w is not None else None
    alpha = (1 - level) / 2
    out: dict[str, MetricValue] = {}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:
            est = compute_metric(name, yt, yp, proba, labels=classes or None, sample_weight=w)
            boot = fast.values(name) if fast is not None else np.array([])
            boot = boot[np.isfinite(boot)]
            lo, hi = (
                (float("nan"), float("nan"))
                if boot.size < max(10, n_boot // 4) or not np.isfinite(est)
                else tuple(float(v) for v in np.quantile(boot, [alpha, 1 - alpha]))
            )
            out[name] = MetricValue(est, lo, hi, name, higher_is_better(name))
    return out


class _FastBootstrap:
    """Metric values on every resample, given resample weights (n_boot x n).

    Label metrics come from one confusion matrix per resample and mean-type losses from one
    matrix product; only rank metrics (ROC-AUC, PR-AUC) call scikit-learn per resample.
    """

    def __init__(
        self, yt: np.ndarray, yp: Any, proba: Any, classes: list[Any], weights: np.ndarray
    ) -> None:
        self.yt, self.yp, self.proba, self.classes, self.W = yt, yp, proba, classes, weights
        self._conf: np.ndarray | None = None

    def confusion(self) -> np.ndarray:
        if self._conf is None:
            k = len(self.classes)
            lookup = {c: i for i, c in enumerate(self.classes)}
            ti = np.array([lookup[v] for v in self.yt.tolist()])
            pi = np.array([lookup.get(v, -1) for v in np.asarray(self.yp).tolist()])
            cell = ti * k + np.where(pi < 0, 0, pi)
            onehot = np.zeros((len(ti), k * k))
            keep = pi >= 0
            onehot[np.flatnonzero(keep), cell[keep]] = 1.0
            # a predicted label outside the classes counts as wrong for its true class only
            self._outside = self.W @ (~keep).astype(float)
            self._conf = (self.W @ onehot).reshape(-1, k, k)
        return self._conf

    def mean(self, per_row: np.ndarray) -> np.ndarray:
        return np.asarray(self.W @ per_row / self.W.sum(axis=1))

    def values(self, name: str) -> np.ndarray:
        yt, W = self.yt, self.W
        if name in ("mae", "mse", "rmse", "mape", "r2") or name.startswith("pinball_"):
            y, e = yt.astype(float), yt.astype(float) - np.asarray(self.yp, dtype=float)
            if name == "mae":
                return self.mean(np.abs(e))
            if name in ("mse", "rmse"):
                m = self.mean(e**2)
                return np.sqrt(m) if name == "rmse" else m
            if name == "mape":
                if np.any(y == 0):
                    return np.full(len(W), np.nan)
                return self.mean(np.abs(e) / np.abs(y))
            if name == "r2":
                sw = W.sum(axis=1)
                sst = W @ (y**2) - (W @ y) ** 2 / sw
                with np.errstate(divide="ignore", invalid="ignore"):
                    return np.where(sst > 1e-12 * sw, 1 - (W @ (e**2)) / sst, np.nan)
            q = float(name.split("_", 1)[1])
            return self.mean(np.maximum(q * e, (q - 1) * e))
        if name in LABEL_METRICS or name.split(":", 1)[0] in ("precision", "recall", "f1"):
            C = self.confusion()
            total = C.sum(axis=(1, 2)) + self._outside
            diag = np.diagonal(C, axis1=1, axis2=2)
            rows = C.sum(axis=2)
            cols = C.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                if name == "accuracy":
                    return diag.sum(axis=1) / total
                if name == "balanced_accuracy":
                    true_tot = np.bincount(
                        [self.classes.index(v) for v in yt.tolist()],
                        minlength=len(self.classes),
                    )
                    present = true_tot > 0
                    rec = diag[:, present] / rows[:, present]
                    return np.nanmean(rec, axis=1)
                if name == "mcc":
                    s = total
                    c = diag.sum(axis=1)
                    pk, tk = cols, rows
                    num = c * s - (pk * tk).sum(axis=1)
                    den = np.sqrt((s**2 - (pk**2).sum(axis=1)) * (s**2 - (tk**2).sum(axis=1)))
                    return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)
                f1 = np.nan_to_num(2 * diag / (rows + cols))
                if name == "macro_f1":
                    return f1.mean(axis=1)
                kind, cls = name.split(":", 1)
                j = self.classes.index(_match_class(cls, self.classes))
                if kind == "precision":
                    return np.nan_to_num(diag[:, j] / cols[:, j])
                if kind == "recall":
                    return np.nan_to_num(diag[:, j] / rows[:, j])
                return f1[:, j]
        p = np.asarray(self.proba, dtype=float)
        onehot = (yt[:, None] == np.asarray(self.classes)[None, :]).astype(float)
        if name == "log_loss":
            eps = np.finfo(p.dtype).eps
            pn = p / p.sum(axis=1, keepdims=True)
            return self.mean(-np.log(np.clip((pn * onehot).sum(axis=1), eps, 1)))
        if name == "brier":
            per_row = ((p - onehot) ** 2).sum(axis=1)
            return self.mean(per_row / 2 if len(self.classes) == 2 else per_row)
        if name == "ece":
            from tripwire.stats.calibration import _bin_index, _ece_from_counts, _top_label

            conf, correct = _top_label(yt, p, self.classes)
            return _ece_from_counts(W, conf, correct, _bin_index(conf, 10), 10)
        return self._rank_metric(name)

    def _rank_metric(self, name: str) -> np.ndarray:
        # one-vs-rest ROC-AUC / average precision of every resample at once; resample weights
        # act as repeated rows, so the values equal scikit-learn's on the resampled rows
        p = np.asarray(self.proba, dtype=float)
        onehot = (self.yt[:, None] == np.asarray(self.classes)[None, :]).astype(float)
        cols = [1] if len(self.classes) == 2 else range(len(self.classes))
        scores = []
        for j in cols:
            if onehot[:, j].sum() == 0:
                continue
            fn = _weighted_auc if name == "roc_auc" else _weighted_average_precision
            scores.append(fn(p[:, j], onehot[:, j], self.W))
        if not scores:
            return np.full(len(self.W), np.nan)
        return np.asarray(np.mean(scores, axis=0))


def _grouped(
    score: np.ndarray, positive: np.ndarray, W: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Positive and negative weight per distinct score, descending (resamples x groups)."""
    order = np.argsort(-score, kind="mergesort")
    s = score[order]
    starts = np.r_[0, np.flatnonzero(np.diff(s) != 0) + 1]
    Wo = W[:, order]
    pos = np.add.reduceat(Wo * positive[order], starts, axis=1)
    neg = np.add.reduceat(Wo * (1 - positive[order]), starts, axis=1)
    return pos, neg


def _weighted_auc(score: np.ndarray, positive: np.ndarray, W: np.ndarray) -> np.ndarray:
    pos, neg = _grouped(score, positive, W)
    # negatives ranked below each group of positives (descending order: those after it)
    neg_after = neg.sum(axis=1, keepdims=True) - np.cumsum(neg, axis=1)
    num = (pos * (neg_after + 0.5 * neg)).sum(axis=1)
    den = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _weighted_average_precision(
    score: np.ndarray, positive: np.ndarray, W: np.ndarray
) -> np.ndarray:
    pos, neg = _grouped(score, positive, W)
    tp, fp = np.cumsum(pos, axis=1), np.cumsum(neg, axis=1)
    total = tp[:, -1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        ap = (pos / total * precision).sum(axis=1)
    return np.where(total[:, 0] > 0, ap, np.nan)


def _resample_indices(
    n: int, n_boot: int, rng: np.random.Generator, strata: np.ndarray | None
) -> list[np.ndarray]:
    if strata is None:
        return [rng.integers(0, n, n) for _ in range(n_boot)]
    groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    return [
        np.concatenate([g[rng.integers(0, len(g), len(g))] for g in groups]) for _ in range(n_boot)
    ]


def paired_difference(
    name: str,
    y_true: Any,
    a: tuple[Any, Any],
    b: tuple[Any, Any],
    *,
    labels: Any = None,
    sample_weight: Any = None,
    n_boot: int = 500,
    random_state: int = 0,
    level: float = 0.95,
    stratify: bool = True,
) -> MetricValue:
    """Metric of model ``a`` minus metric of model ``b`` on the same rows, with a paired
    bootstrap interval (both evaluated on each resample). ``a`` and ``b`` are
    ``(y_pred, proba)`` pairs. ``higher_is_better`` of the result is that of the metric.

    Examples
    --------
    >>> y = np.array([0, 1] * 50); good = (y, None); bad = (np.zeros(100, int), None)
    >>> d = paired_difference("accuracy", y, good, bad, n_boot=100)
    >>> d.value, d.low > 0
    (0.5, True)
    """
    yt = np.asarray(y_true)
    n = len(yt)
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    classes = None if labels is None else list(labels)

    def diff(idx: np.ndarray) -> float:
        def take(x: Any) -> Any:
            return None if x is None else np.asarray(x)[idx]

        wi = take(w)
        va = compute_metric(name, yt[idx], take(a[0]), take(a[1]), labels=classes, sample_weight=wi)
        vb = compute_metric(name, yt[idx], take(b[0]), take(b[1]), labels=classes, sample_weight=wi)
        return va - vb

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = diff(np.arange(n))
        rng = np.random.default_rng(random_state)
        res = _resample_indices(n, n_boot, rng, yt if stratify else None)
        boot = np.array([diff(i) for i in res])
    boot = boot[np.isfinite(boot)]
    alpha = (1 - level) / 2
    lo, hi = (
        (float("nan"), float("nan"))
        if boot.size < 10
        else tuple(float(v) for v in np.quantile(boot, [alpha, 1 - alpha]))
    )
    return MetricValue(float(est), lo, hi, f"{name} difference", higher_is_better(name))


MetricFn = Callable[..., float]
