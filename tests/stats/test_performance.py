"""CBPE kernels on real data: the Platt map must stay finite where confidences pile up at 1."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from tests.realdata import elec2
from tripwire.stats.performance import calibrated, estimate_accuracy, fit_platt

FEATURES = ["nswprice", "nswdemand", "vicprice", "vicdemand", "transfer", "period"]
WEEK = 336  # half-hour rows


@pytest.fixture(scope="module")
def elec2_confidence() -> dict[str, np.ndarray]:
    """A model fitted on elec2's first 4 weeks, scored on the next 4 (reference) and the 5,000
    rows after them: the monitor's setting, where the raw Platt Newton fit diverged."""
    df = elec2().iloc[: 8 * WEEK + 5000]
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0)
    model.fit(df[FEATURES][: 4 * WEEK], df["class"][: 4 * WEEK])
    proba = model.predict_proba(df[FEATURES])
    correct = model.classes_[proba.argmax(1)] == df["class"].to_numpy()
    ref, cur = slice(4 * WEEK, 8 * WEEK), slice(8 * WEEK, None)
    conf = proba.max(1)
    return {
        "conf_ref": conf[ref],
        "ok_ref": correct[ref],
        "conf_cur": conf[cur],
        "ok_cur": correct[cur],
    }


def test_platt_on_elec2_is_finite_and_calibrates_the_reference(elec2_confidence):
    c, ok = elec2_confidence["conf_ref"], elec2_confidence["ok_ref"]
    assert np.mean(c > 0.999) > 0.1  # the pile-up at 1 that broke plain Newton steps
    a, b = fit_platt(c, ok)
    assert 0 < a < 2 and abs(b) < 5
    # the maximum-likelihood map reproduces the reference accuracy (score equation for b)
    assert abs(float(calibrated(c, (a, b)).mean()) - float(ok.mean())) < 0.005
    # an overconfident model: calibrated confidence is below the raw one
    assert float(calibrated(c, (a, b)).mean()) < float(c.mean()) - 0.1


def test_estimated_accuracy_on_elec2_covers_the_realized(elec2_confidence):
    e = elec2_confidence
    est = estimate_accuracy(e["conf_ref"], e["ok_ref"], e["conf_cur"], n_boot=100)
    realized = float(e["ok_cur"].mean())
    assert abs(est.accuracy - realized) < 0.03
    assert est.low <= realized <= est.high
    assert est.high - est.low < 0.08


def test_platt_is_stable_on_separable_and_constant_inputs():
    conf = np.r_[np.full(500, 0.99), np.full(500, 0.6)]
    a, b = fit_platt(conf, conf > 0.9)  # perfectly separable
    assert np.isfinite([a, b]).all()
    assert calibrated(np.array([0.99]), (a, b))[0] > 0.95
    assert calibrated(np.array([0.6]), (a, b))[0] < 0.05
    a, b = fit_platt(np.full(300, 0.8), np.arange(300) % 2 == 0)  # one confidence value
    assert abs(float(calibrated(np.array([0.8]), (a, b))[0]) - 0.5) < 0.01
