"""What the registry records about a version: its metrics on held-out data and its audit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tripwire.errors import InputError


@dataclass
class VersionInfo:
    train: pd.DataFrame | None
    task: str | None
    metrics: dict[str, Any] | None
    audit: dict[str, Any] | None
    audit_summary: dict[str, Any] | None


def load_model_file(path: str | Path) -> Any:
    """Load a model file the user hands us (their own file: loading it runs its code)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"model file {p} does not exist.")
    if p.suffix == ".skops":
        import skops.io as sio

        from tripwire.lifecycle.artifacts import safe_skops_types

        return sio.load(p, trusted=safe_skops_types(p))
    import joblib

    try:
        return joblib.load(p)
    except Exception as exc:
        raise InputError(
            f"could not load {p} as a joblib file ({type(exc).__name__}: {exc}). "
            "Save the fitted estimator with joblib.dump(model, path)."
        ) from exc


def infer_task(y: pd.Series) -> str:
    if y.dtype.kind in "fc" and y.nunique() > 20:
        return "regression"
    return "classification"


def score(model: Any, data: pd.DataFrame, target: str, task: str) -> dict[str, float]:
    """Plain held-out metrics of ``model`` on ``data`` (features = every other column)."""
    from sklearn import metrics as skm

    X = data.drop(columns=[target])
    y = data[target]
    try:
        pred = model.predict(X)
    except Exception as exc:
        raise InputError(
            f"the model could not predict on the held-out data ({type(exc).__name__}: {exc}). "
            "Give data with the columns the model was trained on."
        ) from exc
    out: dict[str, float] = {"rows": float(len(data))}
    if task == "regression":
        err = np.asarray(y, dtype=float) - np.asarray(pred, dtype=float)
        out["mae"] = float(np.mean(np.abs(err)))
        out["rmse"] = float(np.sqrt(np.mean(err**2)))
        out["r2"] = float(skm.r2_score(y, pred))
        return out
    out["accuracy"] = float(skm.accuracy_score(y, pred))
    out["balanced_accuracy"] = float(skm.balanced_accuracy_score(y, pred))
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        classes = list(getattr(model, "classes_", []))
        if proba.shape[1] == 2 and len(classes) == 2:
            out["roc_auc"] = float(skm.roc_auc_score(np.asarray(y) == classes[1], proba[:, 1]))
        out["log_loss"] = float(skm.log_loss(y, proba, labels=classes))
    return out


def describe_version(
    model_path: str | Path,
    *,
    train: str | pd.DataFrame | None = None,
    target: str | None = None,
    test: str | pd.DataFrame | None = None,
    run_audit: bool = True,
) -> VersionInfo:
    """Read the training data, measure the model on ``test`` and audit ``train``."""
    from tripwire.data import read_table

    model = load_model_file(model_path)
    train_df = read_table(train, name="train") if train is not None else None
    task = None
    metrics = None
    report = None
    summary = None
    if train_df is not None and target is not None:
        if target not in train_df.columns:
            raise InputError(
                f"target column {target!r} is not in --train; columns are "
                f"{list(train_df.columns)[:20]}."
            )
        task = infer_task(train_df[target])
        if test is not None:
            test_df = read_table(test, name="test")
            if target not in test_df.columns:
                raise InputError(f"target column {target!r} is not in --test.")
            metrics = score(model, test_df, target, task)
        if run_audit:
            from tripwire.audit import audit
            from tripwire.lifecycle.registry import _audit_summary

            rep = audit(
                train_df,
                test if test is not None else None,
                target=target,
                model=model,
                skip=["deployment"],
            )
            report = rep.to_dict()
            summary = _audit_summary(report)
    return VersionInfo(train_df, task, metrics, report, summary)
