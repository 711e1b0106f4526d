"""Retraining: assemble a training set and call the user's entry point.

The training set is the original training data (optional) plus logged predictions joined with
their feedback labels, newest rows kept when it grows past ``max_rows``. The user's code is
called as ``module:function`` with ``(train: DataFrame, target: str)`` and returns a fitted
estimator, or as a shell command with ``{train}``, ``{model}`` and ``{target}`` placeholders that
writes a joblib file.
"""

from __future__ import annotations

import importlib
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd

from tripwire.errors import InputError, UsageError
from tripwire.lifecycle.config import RetrainConfig


def assemble_training_set(
    logged: pd.DataFrame, target: str, original: pd.DataFrame | None, config: RetrainConfig
) -> pd.DataFrame:
    """Original rows (if configured) followed by logged labelled rows, newest kept.

    Examples
    --------
    >>> logged = pd.DataFrame({"x": [3, 4], "y": [1, 0]})
    >>> orig = pd.DataFrame({"x": [1, 2], "y": [0, 1]})
    >>> assemble_training_set(logged, "y", orig, RetrainConfig(max_rows=3))["x"].tolist()
    [2, 3, 4]
    """
    if target not in logged.columns:
        raise InputError(
            f"retrain: logged data has no label column {target!r}; is feedback being sent?"
        )
    parts = []
    if config.include_original and original is not None:
        parts.append(original[[c for c in logged.columns if c in original.columns]])
    parts.append(logged)
    data = pd.concat(parts, ignore_index=True)
    return data.tail(config.max_rows).reset_index(drop=True)


def _call_entry(entry: str, train: pd.DataFrame, target: str) -> Any:
    module_name, _, func_name = entry.partition(":")
    try:
        func = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise UsageError(
            f"retrain entry {entry!r} could not be imported ({exc}). Check [retrain] entry."
        ) from exc
    return func(train, target)


def _run_command(command: str, train: pd.DataFrame, target: str, workdir: Path) -> Any:
    import joblib

    workdir.mkdir(parents=True, exist_ok=True)
    train_path, model_path = workdir / "train.csv", workdir / "model.joblib"
    train.to_csv(train_path, index=False)
    args = [
        a.format(train=train_path, model=model_path, target=target) for a in shlex.split(command)
    ]
    res = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    if res.returncode != 0:
        tail = (res.stderr or res.stdout).strip().splitlines()[-1:] or [""]
        raise InputError(f"retrain command failed with exit code {res.returncode}: {tail[0]}")
    if not model_path.exists():
        raise InputError(
            f"retrain command finished but wrote no model at {model_path}; use the {{model}} placeholder."
        )
    return joblib.load(model_path)


def train_candidate(config: RetrainConfig, train: pd.DataFrame, target: str, workdir: Path) -> Any:
    """Fit a candidate with the user's entry point or command; check it can predict."""
    if config.entry:
        model = _call_entry(config.entry, train, target)
    elif config.command:
        model = _run_command(config.command, train, target, workdir)
    else:
        raise UsageError(
            "no retraining configured: set [retrain] entry or command in tripwire.toml."
        )
    if not hasattr(model, "predict"):
        raise InputError(
            f"retrain returned a {type(model).__name__}, which has no predict(); return a fitted estimator."
        )
    return model
