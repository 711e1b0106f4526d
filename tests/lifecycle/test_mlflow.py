"""MLflow as an alternative registry: export a tripwire version, register an MLflow model."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import joblib
import numpy as np
import pytest

from tests import realdata
from tests.conftest import IN_CI
from tests.lifecycle import trainers
from tests.monitor.conftest import run_tripwire

try:
    import mlflow
except ImportError:  # pragma: no cover - dev extras install it
    if IN_CI:
        raise
    pytest.skip("mlflow is not installed (pip install 'tripwire[mlflow]')", allow_module_level=True)

FEATURES = ["day", "period", "nswprice", "nswdemand", "vicprice", "vicdemand", "transfer"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_tripwire(*args, cwd=cwd)


def test_export_to_mlflow_and_register_back_from_it(tmp_path: Path) -> None:
    elec = realdata.elec2()[FEATURES + ["class"]].iloc[:3000]
    train, test = elec.iloc[:2000], elec.iloc[2000:]
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    joblib.dump(trainers.fit(train, "class"), tmp_path / "m.joblib")
    db = f"sqlite:///{tmp_path / 'tw.db'}"
    ml = f"sqlite:///{tmp_path / 'mlflow.db'}"
    res = _cli("registry", "add", "elec", "m.joblib", "--train", "train.csv", "--target", "class",
               "--test", "test.csv", "--alias", "champion", "--no-audit", "--db", db, cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr

    # tripwire -> MLflow: the model, its metrics, hash and champion alias.
    res = _cli("registry", "export", "elec", "champion", "--mlflow-uri", ml, "--db", db, cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "models:/elec/1 with alias champion" in res.stdout
    mlflow.set_tracking_uri(ml)
    client = mlflow.MlflowClient()
    mv = client.get_model_version_by_alias("elec", "champion")
    listing = json.loads(_cli("registry", "list", "elec", "--json", "--db", db, cwd=tmp_path).stdout)  # fmt: skip
    assert mv.tags["tripwire.sha256"] == listing["versions"][0]["sha256"]
    run = client.get_run(mv.run_id)
    assert run.data.metrics["accuracy"] == pytest.approx(
        listing["versions"][0]["metrics"]["accuracy"]
    )
    ours = joblib.load(tmp_path / "m.joblib")
    theirs = mlflow.sklearn.load_model("models:/elec@champion")
    assert np.array_equal(ours.predict(test[FEATURES]), theirs.predict(test[FEATURES]))

    # MLflow -> tripwire: a models:/ URI registers as the next version, with hash and trail.
    res = _cli("registry", "add", "elec", "models:/elec@champion", "--mlflow-uri", ml,
               "--alias", "challenger", "--no-audit", "--db", db, cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "registered elec v2 as challenger" in res.stdout
    history = _cli("registry", "history", "elec", "--db", db, cwd=tmp_path).stdout
    assert "export" in history and "pulled from MLflow models:/elec@champion" in history

    # A URI that does not exist is refused with a message, nothing registered.
    res = _cli("registry", "add", "elec", "models:/nope/9", "--mlflow-uri", ml, "--db", db, cwd=tmp_path)  # fmt: skip
    assert res.returncode == 2 and "could not load models:/nope/9" in res.stderr
    assert "Traceback" not in res.stderr
    listing = json.loads(_cli("registry", "list", "elec", "--json", "--db", db, cwd=tmp_path).stdout)  # fmt: skip
    assert [v["version"] for v in listing["versions"]] == [1, 2]
