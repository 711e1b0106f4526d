"""`tripwire audit` as a user runs it, for the metrics checks: a real model file, --costs inline
and from a file, --latency-budget-ms, the JSON findings, and the reliability diagram drawn by
headless Chromium in the HTML report."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from tests import realdata
from tests.browser import dump_dom
from tests.conftest import run_cli


def _findings(path: Path) -> dict[str, dict[str, Any]]:
    report = json.loads(path.read_text())
    return {f["check"]: f for f in report["findings"]}


@pytest.fixture(scope="module")
def bank(tmp_path_factory) -> Path:
    """Bank marketing (11% 'yes') as CSV files and a fitted logistic-regression pipeline."""
    d = tmp_path_factory.mktemp("bank")
    df = realdata.bank_additional().drop(columns=["duration"])
    df = df.sample(frac=1.0, random_state=0).reset_index(drop=True)
    train, test = df.iloc[:2500], df.iloc[2500:]
    train.to_csv(d / "train.csv", index=False)
    test.to_csv(d / "test.csv", index=False)
    pre = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
        (StandardScaler(), make_column_selector(dtype_include="number")),
    )
    model = make_pipeline(pre, LogisticRegression(max_iter=2000))
    model.fit(train.drop(columns="y"), train["y"])
    joblib.dump(model, d / "model.joblib")
    (d / "costs.json").write_text(json.dumps({"fn": 5, "fp": 1}))
    return d


def _audit(d: Path, out: Path, costs: str, budget: str, *extra: str) -> Any:
    return run_cli(
        "audit",
        "--train",
        str(d / "train.csv"),
        "--test",
        str(d / "test.csv"),
        "--target",
        "y",
        "--model",
        str(d / "model.joblib"),
        "--costs",
        costs,
        "--latency-budget-ms",
        budget,
        "--checks",
        "metrics.",
        "--json",
        str(out),
        "--quiet",
        *extra,
    )


@pytest.fixture(scope="module")
def runs(bank, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("runs")
    inline = _audit(
        bank, out / "inline.json", "fn=5,fp=1", "0.000001", "--html", str(out / "r.html")
    )
    assert inline.returncode == 0, inline.stderr
    from_file = _audit(bank, out / "file.json", str(bank / "costs.json"), "100000")
    assert from_file.returncode == 0, from_file.stderr
    return {"inline": out / "inline.json", "file": out / "file.json", "html": out / "r.html"}


def test_costs_inline_and_from_file_give_the_same_threshold(runs):
    inline, from_file = _findings(runs["inline"]), _findings(runs["file"])
    a, b = inline["metrics.costs"]["evidence"], from_file["metrics.costs"]["evidence"]
    assert a["costs"] == b["costs"] == {"fn": 5.0, "fp": 1.0}
    assert a["positive_class"] == "yes"
    # a missed subscriber costs 5 false calls: the optimal threshold drops well below 0.5,
    # and the calibrated-model threshold is 1 / (1 + 5)
    assert a["cost_optimal_threshold"] < 0.35
    assert a["bayes_threshold_if_calibrated"] == pytest.approx(1 / 6, abs=1e-6)
    assert a["cost_at_optimal_threshold_on_test"] < a["cost_per_decision_current"]
    for key in ("cost_optimal_threshold", "cost_per_decision_current", "saving_out_of_sample"):
        assert a[key] == b[key]
    assert inline["metrics.costs"]["severity"] == "warning"  # the saving is material here
    assert inline["metrics.advisor"]["evidence"]["recommended"].startswith("expected cost")
    assert inline["metrics.panel"]["evidence"]["model"]["roc_auc"]["value"] > 0.7


def test_latency_budget_breach_is_a_warning_and_a_generous_budget_is_quiet(runs):
    over = _findings(runs["inline"])["metrics.latency"]
    within = _findings(runs["file"])["metrics.latency"]
    assert over["severity"] == "warning" and "over the 1e-06 ms budget" in over["title"]
    assert within["severity"] == "info" and "budget" not in within["title"]
    assert over["evidence"]["budget_ms"] == 1e-6 and within["evidence"]["budget_ms"] == 100000
    for ev in (over["evidence"], within["evidence"]):
        for kind in ("single", "batch"):
            p50, p95, p99 = (ev[f"{kind}_p{q}_ms"] for q in (50, 95, 99))
            assert 0 < p50 <= p95 <= p99
        assert ev["batch_rows"] == 1000
        assert ev["throughput_rows_per_s"] == pytest.approx(1000 / (ev["batch_p50_ms"] / 1000))


def test_reliability_diagram_renders_in_headless_chromium(runs):
    calib = _findings(runs["inline"])["metrics.calibration"]
    bins = calib["evidence"]["reliability"]
    assert len(bins) >= 5
    dom = dump_dom(runs["html"].as_uri())
    assert dom, "chromium returned no DOM"
    page = dom.split("</main>")[0]  # the charts, not the scripts that hold their data
    charts = re.split(r'(?=<div class="chart[^"]*" id="chart\d+")', page)
    diagram = [c for c in charts if "Reliability diagram (positive-class probability)" in c]
    assert len(diagram) == 1, "the reliability diagram is not on the page"
    part = diagram[0]
    assert 'data-rendered="1"' in part and "main-svg" in part
    # one marker per bin, drawn by plotly as an SVG path of class "point"
    assert part.count('class="point"') == len(bins)


def test_multiclass_cost_matrix_from_a_file_and_binary_costs_refused(tmp_path):
    df = realdata.wine("white")
    perm = np.random.default_rng(0).permutation(len(df))
    df.iloc[perm[:2000]].to_csv(tmp_path / "train.csv", index=False)
    df.iloc[perm[2000:3000]].to_csv(tmp_path / "test.csv", index=False)
    # selling a poor wine (quality 3-5) as a good one (7-9) costs 10; other errors cost 1
    matrix = {str(a): {str(b): 10 for b in (7, 8, 9)} for a in (3, 4, 5)}
    (tmp_path / "costs.json").write_text(json.dumps({"matrix": matrix}))
    base = ["audit", "--train", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv")]
    base += ["--target", "quality", "--checks", "metrics.costs", "--quiet"]
    res = run_cli(
        *base, "--costs", str(tmp_path / "costs.json"), "--json", str(tmp_path / "r.json")
    )
    assert res.returncode == 0, res.stderr
    ev = _findings(tmp_path / "r.json")["metrics.costs"]["evidence"]
    C = np.array(ev["cost_matrix"])
    names = ev["classes"]
    assert names == ["3", "4", "5", "6", "7", "8", "9"]
    assert (
        C[names.index("4"), names.index("8")] == 10 and C[names.index("8"), names.index("4")] == 1
    )
    assert np.all(np.diag(C) == 0)
    # deciding by the lowest expected cost never costs more on average than argmax here
    assert ev["cost_per_decision_min_expected_cost"] <= ev["cost_per_decision_current"] + 0.01
    refused = run_cli(*base, "--costs", "fn=5,fp=1")
    assert refused.returncode == 2
    assert "needs a binary target; this one has 7 classes" in refused.stderr
    assert "TRUE->PRED=COST" in refused.stderr
