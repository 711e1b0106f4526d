"""Peer tools on one zoo scenario, run inside the peers' own environments (never tripwire's).

This file imports no tripwire code and nothing from the project but ``benchmarks/drift_peers.py``
(the drift peers' calls, shared with the drift benchmark). It is started by the scorer
(``score.py``) as ``PYTHON peers.py TOOL FOLDER`` with the peer environment's interpreter, reads
the scenario's ``args.json`` and inputs, and prints one JSON object in tripwire's report shape
(``{"tool", "version", "seconds", "findings": [{"check", "mode", "severity", "rows",
"columns"}]}``) so the same judge scores every tool. Each tool runs with its documented
defaults and its own verdict:

- ``cleanlab``: ``CleanLearning(clf).find_label_issues(X, y)`` (5-fold out-of-fold confident
  learning), ``cleanlab.regression.learn.CleanLearning`` for a numeric target. The classifier
  is the same kind of model tripwire's baseline uses (histogram gradient boosting, categories
  ordinal-coded; TF-IDF + logistic regression for a text column). Alarm: any row flagged.
- ``evidently``: ``DataDriftPreset``; alarm: its dataset drift verdict (half the columns drift).
- ``alibi``: ``TabularDrift`` (K-S / chi-squared, Bonferroni); alarm: its ``is_drift``.
- ``nannyml``: ``UnivariateDriftCalculator`` with default chunking and thresholds; alarm: any
  column alerts in any analysis chunk.
- ``whylogs``: profiles of both sides and ``calculate_drift_scores``; alarm: any column in its
  ``DRIFT`` category (p < 0.05, no correction for the number of columns).
- ``deepchecks``: the ``train_test_validation`` and ``data_integrity`` suites (no model);
  ``--time`` becomes the Dataset's ``datetime_name`` and ``--group`` its ``index_name`` so the
  date and index leakage checks run. Every condition that does not pass is an alarm, with a
  mode given by the check (``DEEPCHECKS_MODES``).

Usage: ``PYTHON benchmarks/zoo/peers.py TOOL SCENARIO_FOLDER`` (JSON on stdout).
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for drift_peers

Report = dict[str, Any]


def _arg(args: list[str], flag: str) -> str | None:
    return args[args.index(flag) + 1] if flag in args else None


def _finding(check: str, mode: str, alarm: bool, rows=None, columns=(), **evidence) -> dict:
    return {
        "check": check,
        "mode": mode,
        "severity": "warning" if alarm else "info",
        "rows": {"train": [int(r) for r in rows]} if rows is not None else {},
        "columns": list(columns),
        "evidence": evidence,
    }


# --------------------------------------------------------------------------- cleanlab


def _text_columns(X: pd.DataFrame) -> list[str]:
    obj = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    return [c for c in obj if X[c].astype(str).str.len().mean() > 30]


def _classifier(X: pd.DataFrame, regression: bool):
    """The model cleanlab cross-validates, with X turned into what it accepts."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    text = _text_columns(X)
    if text and not regression:
        col = text[0]
        model = make_pipeline(
            TfidfVectorizer(min_df=2, sublinear_tf=True), LogisticRegression(max_iter=2000)
        )
        return model, X[col].astype(str).to_numpy()
    cats = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    X = X.copy()
    if cats:
        enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        X[cats] = enc.fit_transform(X[cats].astype(str))
    mask = [c in cats for c in X.columns] if cats else None
    common = dict(max_iter=200, early_stopping=True, validation_fraction=0.1, random_state=0)
    if regression:
        return HistGradientBoostingRegressor(categorical_features=mask, **common), X.to_numpy(float)
    return HistGradientBoostingClassifier(categorical_features=mask, **common), X.to_numpy(float)


def run_cleanlab(folder: Path, spec: dict) -> Report:
    args = spec["args"]
    target = _arg(args, "--target")
    train = pd.read_csv(folder / "train.csv")
    drop = [c for c in (target, _arg(args, "--time"), _arg(args, "--group")) if c]
    drop += [c for c in ("prediction",) if c in train.columns]
    X = train.drop(columns=[c for c in drop if c in train.columns])
    regression = _arg(args, "--task") == "regression"
    model, Xm = _classifier(X, regression)
    if regression:
        from cleanlab.regression.learn import CleanLearning as RegressionCleanLearning

        issues = RegressionCleanLearning(model, seed=0, verbose=False).find_label_issues(
            Xm, train[target].to_numpy(float)
        )
    else:
        from cleanlab.classification import CleanLearning

        y = pd.factorize(train[target].astype(str), sort=True)[0]
        issues = CleanLearning(model, seed=0, verbose=False).find_label_issues(Xm, y)
    rows = np.flatnonzero(issues["is_label_issue"].to_numpy())
    return {
        "findings": [_finding("cleanlab.label_issues", "labels", len(rows) > 0, rows, [target])]
    }


# --------------------------------------------------------------------------- drift peers


def _drift_frames(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.read_csv(folder / "reference.csv"), pd.read_csv(folder / "current.csv")


def run_drift_peer(tool: str) -> Any:
    def run(folder: Path, spec: dict) -> Report:
        import drift_peers

        ref, cur = _drift_frames(folder)
        res = drift_peers.RUN[tool](ref, cur)
        return {
            "findings": [
                _finding(f"{tool}.dataset_drift", "drift", res["dataset"], None, res["columns"])
            ]
        }

    return run


def _whylogs_drift_scores():
    try:
        import IPython  # noqa: F401  (whylogs.viz imports it at package level)
    except ImportError:
        # whylogs.viz's __init__ imports IPython for notebook display only; the drift
        # scores do not need it, so load the subpackage without running that __init__.
        import types

        import whylogs

        viz = types.ModuleType("whylogs.viz")
        viz.__path__ = [str(Path(whylogs.__file__).parent / "viz")]
        sys.modules["whylogs.viz"] = viz
    from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

    return calculate_drift_scores


def run_whylogs(folder: Path, spec: dict) -> Report:
    import whylogs

    calculate_drift_scores = _whylogs_drift_scores()
    ref, cur = _drift_frames(folder)
    scores = calculate_drift_scores(
        target_view=whylogs.log(cur).view(),
        reference_view=whylogs.log(ref).view(),
        with_thresholds=True,
    )
    drifted = [c for c, s in scores.items() if s and s.get("drift_category") == "DRIFT"]
    return {"findings": [_finding("whylogs.drift", "drift", bool(drifted), None, drifted)]}


# --------------------------------------------------------------------------- deepchecks

DEEPCHECKS_MODES = {
    # train/test leakage and features that give the label away
    "TrainTestSamplesMix": "leakage",
    "DateTrainTestLeakageDuplicates": "leakage",
    "DateTrainTestLeakageOverlap": "leakage",
    "IndexTrainTestLeakage": "leakage",
    "FeatureLabelCorrelation": "leakage",
    "FeatureLabelCorrelationChange": "leakage",
    "IdentifierLabelCorrelation": "leakage",
    # labels
    "ConflictingLabels": "labels",
    # train vs test distribution
    "FeatureDrift": "drift",
    "LabelDrift": "drift",
    "MultivariateDrift": "drift",
    "NewCategoryTrainTest": "drift",
    "NewLabelTrainTest": "drift",
    "StringMismatchComparison": "drift",
}


def run_deepchecks(folder: Path, spec: dict) -> Report:
    from deepchecks.tabular import Dataset
    from deepchecks.tabular.suites import data_integrity, train_test_validation

    args = spec["args"]
    target = _arg(args, "--target")
    train, test = pd.read_csv(folder / "train.csv"), pd.read_csv(folder / "test.csv")
    kw: dict[str, Any] = {"label": target}
    time_col, group = _arg(args, "--time"), _arg(args, "--group")
    if time_col:
        kw["datetime_name"] = time_col
        train[time_col] = pd.to_datetime(train[time_col])
        test[time_col] = pd.to_datetime(test[time_col])
    if group:
        kw["index_name"] = group
    if _arg(args, "--task") == "regression":
        kw["label_type"] = "regression"
    # Declared, not inferred: inference can differ between train and test and then fails.
    kw["cat_features"] = [
        c
        for c in train.columns
        if c not in (target, time_col, group) and not pd.api.types.is_numeric_dtype(train[c])
    ]
    dtr, dte = Dataset(train, **kw), Dataset(test, **kw)
    findings = []
    for result in (train_test_validation().run(dtr, dte), data_integrity().run(dtr)):
        for check_result in result.get_not_passed_checks():
            name = type(check_result.check).__name__
            failed = [c for c in check_result.conditions_results if not c.is_pass()]
            findings.append(
                _finding(
                    f"deepchecks.{name}",
                    DEEPCHECKS_MODES.get(name, "data"),
                    True,
                    conditions=[f"{c.category.name}: {c.name}" for c in failed],
                )
            )
    return {"findings": findings}


RUN = {
    "cleanlab": run_cleanlab,
    "evidently": run_drift_peer("evidently"),
    "alibi": run_drift_peer("alibi"),
    "nannyml": run_drift_peer("nannyml"),
    "whylogs": run_whylogs,
    "deepchecks": run_deepchecks,
}
DIST = {"alibi": "alibi-detect"}


def main(tool: str, folder: Path) -> None:
    from importlib.metadata import version

    spec = json.loads((folder / "args.json").read_text())
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # progress bars; stdout is for the report
        report = RUN[tool](folder, spec)
    report.update(
        tool=tool, version=version(DIST.get(tool, tool)), seconds=time.perf_counter() - t0
    )
    print(json.dumps(report, default=str))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
