"""`tripwire audit` end to end on real files: planted leakage is named in the JSON report, and a
clean random split of the same data raises no leakage warning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from tests import realdata
from tests.conftest import run_cli

TARGET = "median_house_value"
COPIES = 100


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("leakage_cli")
    df = realdata.california().sample(4000, random_state=0).reset_index(drop=True)
    tr, te = train_test_split(df, test_size=0.3, random_state=1)
    tr.to_csv(d / "clean_train.csv", index=False)
    te.to_csv(d / "clean_test.csv", index=False)
    rng = np.random.default_rng(0)
    leaky = df.assign(
        # a district: 0.25-degree cells, a real entity whose houses share prices
        district=(df["latitude"] // 0.25).astype(int).astype(str)
        + "_"
        + (df["longitude"] // 0.25).astype(int).astype(str),
        # an appraisal made after the sale: the target with 2% noise
        appraisal=df[TARGET] * rng.normal(1, 0.02, len(df)),
    )
    tr, te = train_test_split(leaky, test_size=0.3, random_state=1)
    te = pd.concat([te, tr.sample(COPIES, random_state=2)], ignore_index=True)
    tr.to_csv(d / "leaky_train.csv", index=False)
    te.to_csv(d / "leaky_test.csv", index=False)
    return d


def _audit(d: Path, name: str, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    res = run_cli(
        "audit",
        "--train",
        str(d / f"{name}_train.csv"),
        "--test",
        str(d / f"{name}_test.csv"),
        "--target",
        TARGET,
        "--checks",
        "leakage",
        "--json",
        str(d / f"{name}.json"),
        *extra,
    )
    assert res.returncode in (0, 1), res.stderr
    return res.returncode, json.loads((d / f"{name}.json").read_text())


def test_planted_leaks_are_each_named_in_the_json_report(files: Path) -> None:
    code, report = _audit(files, "leaky", "--group", "district")
    alarms = {f["check"]: f for f in report["findings"] if f["severity"] in ("warning", "critical")}
    assert code == 1  # critical findings
    dup = alarms["leakage.train_test_duplicates"]
    n_test = len(pd.read_csv(files / "leaky_test.csv"))
    assert set(range(n_test - COPIES, n_test)) <= set(dup["rows"]["test"])
    assert dup["evidence"]["duplicates"] >= COPIES
    leak = alarms["leakage.target_leak_features"]
    assert leak["columns"] == ["appraisal"] and leak["severity"] == "critical"
    entity = alarms["leakage.entity_overlap"]
    assert "district" in entity["columns"] and entity["evidence"]["test_share"] > 0.9
    for f in alarms.values():
        assert f["mode"] == "leakage" and f["evidence"] and f["action"]


def test_clean_random_split_raises_no_leakage_warning(files: Path) -> None:
    code, report = _audit(files, "clean")
    alarms = [f["title"] for f in report["findings"] if f["severity"] != "info"]
    assert code == 0 and not alarms, alarms
    ran = {c["check"] for c in report["checks"] if c["status"] == "ran"}
    assert {"leakage.train_test_duplicates", "leakage.near_duplicates"} <= ran
