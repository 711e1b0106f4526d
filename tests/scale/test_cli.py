"""`tripwire profile` and `tripwire drift` on saved profiles, through the real CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests import realdata
from tripwire.cli import main


class _Result:
    def __init__(self, exit_code: int, output: str) -> None:
        self.exit_code, self.output = exit_code, output


@pytest.fixture(autouse=True)
def _capture(capsys):
    global _CAPSYS
    _CAPSYS = capsys
    yield


_CAPSYS = None


def _run(*args: str) -> _Result:
    """Run the real entry point (exit codes and stderr lines as a user sees them)."""
    assert _CAPSYS is not None
    _CAPSYS.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = _CAPSYS.readouterr()
    return _Result(code, out.out + out.err)


def test_profile_then_drift_from_profiles(tmp_path) -> None:
    df = realdata.elec2()
    half = len(df) // 2
    ref, cur = tmp_path / "ref.parquet", tmp_path / "cur.csv"
    df.iloc[:half].to_parquet(ref)
    df.iloc[half:].to_csv(cur, index=False)
    r = _run("profile", str(ref), "--out", str(tmp_path / "ref.json"))
    assert r.exit_code == 0, r.output
    assert "rows profiled" in r.output
    r = _run("profile", str(cur), "--out", str(tmp_path / "cur.json"), "-q")
    assert r.exit_code == 0, r.output
    out = tmp_path / "report.json"
    r = _run(
        "drift", "--reference", str(tmp_path / "ref.json"), "--current", str(tmp_path / "cur.json"),
        "--json", str(out), "-q",
    )  # fmt: skip
    assert r.exit_code in (0, 1), r.output
    rep = json.loads(out.read_text())
    drifted = {
        f["columns"][0]
        for f in rep["findings"]
        if f["check"] == "drift.columns" and f["severity"] != "info"
    }
    assert {"nswprice", "vicdemand"} & drifted  # elec2's two halves differ in price and demand
    # A profile against raw data works too (the data side is profiled on the fly).
    r = _run(
        "drift", "--reference", str(tmp_path / "ref.json"), "--current", str(cur), "--json", "-"
    )
    assert r.exit_code in (0, 1)
    assert json.loads(r.output)["tool"] == "tripwire"


def test_profile_same_data_is_quiet_and_merge_option(tmp_path) -> None:
    rng = np.random.default_rng(0)
    for i in range(3):
        pd.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(list("abc"), 5000)}).to_parquet(
            tmp_path / f"p{i}.parquet"
        )
    assert (
        _run(
            "profile", str(tmp_path / "p0.parquet"), "--out", str(tmp_path / "a.json"), "-q"
        ).exit_code
        == 0
    )
    r = _run(
        "profile", str(tmp_path / "p1.parquet"), "--merge", str(tmp_path / "a.json"),
        "--out", str(tmp_path / "ab.json"), "-q",
    )  # fmt: skip
    assert r.exit_code == 0
    assert json.loads((tmp_path / "ab.json").read_text())["rows"] == 10_000
    _run("profile", str(tmp_path / "p2.parquet"), "--out", str(tmp_path / "c.json"), "-q")
    r = _run(
        "drift",
        "--reference",
        str(tmp_path / "ab.json"),
        "--current",
        str(tmp_path / "c.json"),
        "--json",
        "-",
        "--fail-on",
        "warning",
    )
    assert r.exit_code == 0, r.output


def test_bad_inputs_exit_2_with_one_line(tmp_path) -> None:
    r = _run("profile", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o.json"))
    assert r.exit_code == 2 and "does not exist" in r.output
    r = _run("profile", "x.csv", "--out", "o.json", "--scheduler", "tcp://127.0.0.1:1")
    assert r.exit_code == 2 and "--scheduler needs --engine dask" in r.output
