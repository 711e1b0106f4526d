"""Metric values equal scikit-learn's; intervals cover; weights are honoured."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from tripwire.stats.calibration import ece_interval, expected_calibration_error, reliability_bins
from tripwire.stats.metrics import compute_metric, metric_panel, paired_difference


def _binary(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.uniform(size=n)
    y = (rng.uniform(size=n) < p).astype(int)
    return y, p


def _multi(n: int = 600, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 3)) * 2
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=row) for row in p])
    return y, p


@pytest.mark.parametrize("weighted", [False, True])
def test_binary_values_match_sklearn(weighted: bool) -> None:
    y, p = _binary()
    w = np.random.default_rng(5).uniform(0.5, 2, len(y)) if weighted else None
    pred = (p >= 0.5).astype(int)
    P = np.column_stack([1 - p, p])
    expected = {
        "accuracy": skm.accuracy_score(y, pred, sample_weight=w),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred, sample_weight=w),
        "mcc": skm.matthews_corrcoef(y, pred, sample_weight=w),
        "macro_f1": skm.f1_score(y, pred, average="macro", sample_weight=w),
        "precision:1": skm.precision_score(y, pred, sample_weight=w),
        "recall:0": skm.recall_score(y, pred, pos_label=0, sample_weight=w),
        "f1:1": skm.f1_score(y, pred, sample_weight=w),
        "roc_auc": skm.roc_auc_score(y, p, sample_weight=w),
        "pr_auc": skm.average_precision_score(y, p, sample_weight=w),
        "log_loss": skm.log_loss(y, P, sample_weight=w),
        "brier": skm.brier_score_loss(y, p, sample_weight=w),
    }
    panel = metric_panel(y, pred, P, task="binary", sample_weight=w, n_boot=200)
    for name, value in expected.items():
        assert compute_metric(name, y, pred, P, sample_weight=w) == pytest.approx(value, abs=1e-12)
        assert panel[name].value == pytest.approx(value, abs=1e-12), name
        assert panel[name].low <= panel[name].value <= panel[name].high, name


def test_multiclass_values_match_sklearn() -> None:
    y, P = _multi()
    pred = P.argmax(axis=1)
    panel = metric_panel(y, pred, P, task="multiclass", n_boot=100)
    assert panel["roc_auc"].value == pytest.approx(
        skm.roc_auc_score(y, P, multi_class="ovr", average="macro")
    )
    assert panel["log_loss"].value == pytest.approx(skm.log_loss(y, P))
    assert panel["mcc"].value == pytest.approx(skm.matthews_corrcoef(y, pred))
    assert panel["f1:2"].value == pytest.approx(skm.f1_score(y, pred, average=None)[2])
    onehot = np.eye(3)[y]
    assert panel["brier"].value == pytest.approx(((P - onehot) ** 2).sum(axis=1).mean())


def test_bootstrap_of_label_metrics_matches_direct_resampling() -> None:
    # the confusion-matrix fast path gives the same interval as recomputing with sklearn
    y, p = _binary(300, 3)
    pred = (p > 0.4).astype(int)
    panel = metric_panel(y, pred, task="binary", n_boot=100, random_state=7)
    from tripwire.stats.bootstrap import resample_counts

    counts = resample_counts(len(y), 100, np.random.default_rng(7), y)
    direct = [skm.matthews_corrcoef(y, pred, sample_weight=c) for c in counts.astype(float)]
    lo, hi = np.quantile(direct, [0.025, 0.975])
    assert panel["mcc"].low == pytest.approx(lo) and panel["mcc"].high == pytest.approx(hi)


def test_regression_values_match_sklearn() -> None:
    rng = np.random.default_rng(2)
    y = rng.gamma(2, 2, 500) + 0.1
    yhat = y + rng.normal(0, 1, 500)
    w = rng.uniform(0.5, 2, 500)
    panel = metric_panel(y, yhat, task="regression", sample_weight=w, n_boot=200)
    assert panel["mae"].value == pytest.approx(skm.mean_absolute_error(y, yhat, sample_weight=w))
    assert panel["rmse"].value == pytest.approx(
        np.sqrt(skm.mean_squared_error(y, yhat, sample_weight=w))
    )
    assert panel["r2"].value == pytest.approx(skm.r2_score(y, yhat, sample_weight=w))
    assert panel["mape"].value == pytest.approx(
        skm.mean_absolute_percentage_error(y, yhat, sample_weight=w)
    )
    assert panel["pinball_0.9"].value == pytest.approx(
        skm.mean_pinball_loss(y, yhat, alpha=0.9, sample_weight=w)
    )
    assert not panel["mae"].higher_is_better and panel["r2"].higher_is_better
    zero = metric_panel(np.r_[0.0, y], np.r_[0.0, yhat], task="regression", n_boot=20)
    assert np.isnan(zero["mape"].value)


def test_weights_change_the_panel() -> None:
    y, p = _binary()
    pred = (p >= 0.5).astype(int)
    w = np.where(y == 1, 10.0, 1.0)
    a = metric_panel(y, pred, task="binary", n_boot=50)["accuracy"].value
    b = metric_panel(y, pred, task="binary", sample_weight=w, n_boot=50)["accuracy"].value
    assert b == pytest.approx(skm.accuracy_score(y, pred, sample_weight=w)) and a != b


def test_interval_coverage_by_simulation() -> None:
    # accuracy of a fixed classifier with true accuracy 0.8: the 95% interval covers it
    covered = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 2, 300)
        pred = np.where(rng.uniform(size=300) < 0.8, y, 1 - y)
        m = metric_panel(
            y, pred, task="binary", n_boot=200, random_state=seed, metrics=["accuracy"]
        )
        covered += m["accuracy"].low <= 0.8 <= m["accuracy"].high
    assert covered >= 52  # 95% nominal; >= 87% of 60


def test_paired_difference() -> None:
    y, p = _binary()
    good = ((p > 0.5).astype(int), None)
    majority = (np.full(len(y), np.bincount(y).argmax()), None)
    d = paired_difference("balanced_accuracy", y, good, majority, n_boot=200)
    assert d.low > 0


def test_calibration() -> None:
    y, p = _binary(3000, 4)
    r = ece_interval(y, p, n_boot=200)
    assert r.value == pytest.approx(expected_calibration_error(y, p))
    assert r.value <= r.null_high  # calibrated by construction
    bad = ece_interval(y, np.clip(p * 0.5 + 0.5, 0, 1), n_boot=200)
    assert bad.low > bad.null_high
    bins = reliability_bins(y, p)
    assert sum(b.count for b in bins) == len(y)
    for b in bins:
        assert abs(b.confidence - b.frequency) < 0.1


def test_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        compute_metric("auc2", [0, 1], [0, 1])
    with pytest.raises(ValueError, match="needs proba"):
        compute_metric("roc_auc", [0, 1], [0, 1])
    with pytest.raises(ValueError, match="task must be"):
        metric_panel([0, 1], [0, 1], task="ranking")


def test_rank_metrics_bootstrap_match_sklearn_per_resample() -> None:
    from tripwire.stats.metrics import _weighted_auc, _weighted_average_precision

    rng = np.random.default_rng(0)
    s = np.round(rng.uniform(size=200), 1)  # ties
    y = (rng.uniform(size=200) < s).astype(float)
    W = rng.integers(0, 3, size=(5, 200)).astype(float)
    for b in range(5):
        assert _weighted_auc(s, y, W)[b] == pytest.approx(
            skm.roc_auc_score(y, s, sample_weight=W[b])
        )
        assert _weighted_average_precision(s, y, W)[b] == pytest.approx(
            skm.average_precision_score(y, s, sample_weight=W[b])
        )
