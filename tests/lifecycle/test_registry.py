"""The registry through its CLI and Python API, on elec2 and a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import pytest
from sklearn.linear_model import LogisticRegression

from tests import realdata
from tests.conftest import run_cli
from tripwire.errors import InputError, UsageError
from tripwire.lifecycle.registry import Registry

FEATURES = ["day", "period", "nswprice", "nswdemand", "vicprice", "vicdemand", "transfer"]


@pytest.fixture(scope="module")
def elec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("elec")
    df = realdata.elec2()[FEATURES + ["class"]]
    train, test = df.iloc[:4000], df.iloc[4000:6000]
    train.to_csv(root / "train.csv", index=False)
    test.to_csv(root / "test.csv", index=False)
    model = LogisticRegression(max_iter=500).fit(train[FEATURES], train["class"])
    joblib.dump(model, root / "model.joblib")
    return {
        "root": root,
        "train": root / "train.csv",
        "test": root / "test.csv",
        "model": root / "model.joblib",
    }


def test_add_promote_rollback_list_history(elec: dict[str, Path], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'tw.db'}"
    r = run_cli(
        "registry",
        "add",
        "elec",
        str(elec["model"]),
        "--train",
        str(elec["train"]),
        "--target",
        "class",
        "--test",
        str(elec["test"]),
        "--alias",
        "champion",
        "--db",
        db,
    )
    assert r.returncode == 0, r.stderr
    assert "registered elec v1 as champion" in r.stdout
    r = run_cli("registry", "add", "elec", str(elec["model"]), "--no-audit", "--db", db)
    assert r.returncode == 0, r.stderr
    r = run_cli("registry", "promote", "elec", "2", "--db", db)
    assert r.returncode == 0 and "v1 -> v2" in r.stdout, r.stderr
    r = run_cli("registry", "list", "elec", "--json", "--db", db)
    listing = json.loads(r.stdout)
    assert listing["aliases"] == {"champion": 2}
    v1 = listing["versions"][0]
    assert v1["train_rows"] == 4000 and len(v1["train_fingerprint"]) == 64
    assert 0.5 < v1["metrics"]["accuracy"] <= 1.0
    assert set(v1["input_schema"]) == set(FEATURES)
    assert "counts" in v1["audit"]
    r = run_cli("rollback", "elec", "--reason", "live accuracy fell", "--db", db)
    assert r.returncode == 0 and "v2 -> v1" in r.stdout, r.stderr
    r = run_cli("registry", "history", "elec", "--json", "--db", db)
    actions = [(e["action"], e["version"]) for e in json.loads(r.stdout)]
    assert actions == [
        ("register", 1),
        ("alias", 1),
        ("register", 2),
        ("promote", 2),
        ("rollback", 1),
    ]
    assert json.loads(r.stdout)[-1]["reason"] == "live accuracy fell"
    # nothing earlier than v1 to go back to
    r = run_cli("rollback", "elec", "--db", db)
    assert r.returncode == 2 and "no earlier champion" in r.stderr


def test_bad_input_is_refused_and_nothing_stored(elec: dict[str, Path], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'tw.db'}"
    r = run_cli("registry", "add", "elec", str(tmp_path / "missing.joblib"), "--db", db)
    assert r.returncode == 2 and "does not exist" in r.stderr
    r = run_cli(
        "registry",
        "add",
        "elec",
        str(elec["model"]),
        "--train",
        str(elec["train"]),
        "--target",
        "nope",
        "--db",
        db,
    )
    assert r.returncode == 2 and "'nope'" in r.stderr
    junk = tmp_path / "junk.joblib"
    junk.write_bytes(b"not a pickle")
    r = run_cli("registry", "add", "elec", str(junk), "--db", db)
    assert r.returncode == 2 and "joblib" in r.stderr
    r = run_cli("registry", "promote", "elec", "1", "--db", db)
    assert r.returncode == 2 and "no model named 'elec'" in r.stderr
    assert Registry(db).versions("elec") == []


def test_tampered_artifact_is_not_loaded(elec: dict[str, Path], tmp_path: Path) -> None:
    reg = Registry(f"sqlite:///{tmp_path / 'tw.db'}")
    mv = reg.add("elec", elec["model"], actor="test", alias="champion")
    fresh = Registry(f"sqlite:///{tmp_path / 'tw.db'}")
    assert fresh.load("elec")[0].version == 1
    with open(mv.artifact_path, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(InputError, match="changed since it was registered"):
        Registry(f"sqlite:///{tmp_path / 'tw.db'}").load("elec", "champion")
    with pytest.raises(UsageError, match="no 'challenger' alias"):
        fresh.get("elec", "challenger")
