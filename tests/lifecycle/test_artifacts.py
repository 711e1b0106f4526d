from __future__ import annotations

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from tripwire.errors import InputError
from tripwire.lifecycle.artifacts import load_artifact, save_model, store_artifact


@pytest.mark.parametrize("fmt", ["joblib", "skops"])
def test_round_trip_and_tamper_refusal(tmp_path, fmt):
    X = np.random.default_rng(0).normal(size=(50, 3))
    model = LogisticRegression().fit(X, X[:, 0] > 0)
    art = save_model(model, tmp_path, "m", 1, fmt=fmt)
    loaded = load_artifact(art.path, art.sha256)
    assert (loaded.predict(X) == model.predict(X)).all()
    with open(art.path, "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(InputError, match="changed since it was registered"):
        load_artifact(art.path, art.sha256)


def test_store_copies_the_file_with_its_hash(tmp_path):
    joblib.dump(LogisticRegression(), tmp_path / "x.joblib")
    art = store_artifact(tmp_path / "x.joblib", tmp_path / "artifacts", "m", 3)
    assert art.path.endswith("m/v3.joblib") and len(art.sha256) == 64
    with pytest.raises(InputError, match="does not exist"):
        store_artifact(tmp_path / "nope.joblib", tmp_path / "artifacts", "m", 4)
