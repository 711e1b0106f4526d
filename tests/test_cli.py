"""The `tripwire` command end to end, as a user runs it: real files, a real subprocess."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

from tests import realdata
from tests.conftest import run_cli
from tripwire.findings import MODE_KEYS

SCHEMA = json.loads(resources.files("tripwire").joinpath("report/report.schema.json").read_text())


@pytest.fixture(scope="module")
def german(tmp_path_factory):
    d = tmp_path_factory.mktemp("german")
    df = realdata.german_credit().sample(frac=1, random_state=0).reset_index(drop=True)
    df.iloc[:700].to_csv(d / "train.csv", index=False)
    df.iloc[700:].to_csv(d / "test.csv", index=False)
    return d


def test_audit_writes_valid_json_html_and_junit(german, tmp_path):
    out = tmp_path
    res = run_cli(
        "audit",
        "--train",
        str(german / "train.csv"),
        "--test",
        str(german / "test.csv"),
        "--target",
        "class",
        "--json",
        str(out / "r.json"),
        "--html",
        str(out / "r.html"),
        "--junit",
        str(out / "r.xml"),
    )
    assert res.returncode in (0, 1), res.stderr
    report = json.loads((out / "r.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["tool"] == "tripwire" and report["inputs"]["task"] == "binary"
    assert set(report["summary"]["modes"]) == set(MODE_KEYS)
    assert res.returncode == report["summary"]["exit_code"]
    html = (out / "r.html").read_text()
    for mode in MODE_KEYS:
        assert f"id='mode-{mode}'" in html
    assert "Column profile" in html and "credit_amount" in html
    xml = (out / "r.xml").read_text()
    assert xml.startswith("<?xml") and "<testsuite " in xml
    # every section of the terminal summary is printed
    for title in (
        "Understanding the data",
        "Bad or noisy labels",
        "Data leakage",
        "Wrong metrics",
        "Distribution shift",
        "Overfitting to benchmarks",
        "No monitoring",
        "one-time task",
    ):
        assert title in res.stdout


def test_json_to_stdout_is_pure_json(german):
    res = run_cli(
        "audit",
        "--train",
        str(german / "train.csv"),
        "--target",
        "class",
        "--checks",
        "data.",
        "--json",
        "-",
    )
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    jsonschema.validate(report, SCHEMA)


def test_fail_on_warning_turns_a_warning_into_exit_1(tmp_path):
    df = realdata.german_credit().head(300).copy()
    df["age"] = df["age"].astype(object)
    df.loc[[3, 7], "age"] = "unknown"  # a warning: values that are not numbers
    df.to_csv(tmp_path / "t.csv", index=False)
    ok = run_cli(
        "audit", "--train", str(tmp_path / "t.csv"), "--target", "class", "--checks", "data.", "-q"
    )
    bad = run_cli(
        "audit",
        "--train",
        str(tmp_path / "t.csv"),
        "--target",
        "class",
        "--checks",
        "data.",
        "-q",
        "--fail-on",
        "warning",
    )
    assert (ok.returncode, bad.returncode) == (0, 1)


def _bad_inputs(tmp_path):
    good = realdata.german_credit().head(200)
    good.to_csv(tmp_path / "good.csv", index=False)
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 40)
    good.drop(columns=["age"]).to_csv(tmp_path / "fewer.csv", index=False)
    const = good.copy()
    const["class"] = "good"
    const.to_csv(tmp_path / "const.csv", index=False)
    junk = good.copy()
    junk["age"] = [f"n/a-{i}" for i in range(len(junk))]
    junk.to_csv(tmp_path / "junk.csv", index=False)
    nan_target = realdata.wine().head(200)
    nan_target.loc[[4, 9], "alcohol"] = [np.nan, np.inf]
    nan_target.to_csv(tmp_path / "nan_target.csv", index=False)
    timed = good.copy()
    timed["when"] = [f"someday {i}" for i in range(len(timed))]
    timed.to_csv(tmp_path / "timed.csv", index=False)
    g = str(tmp_path / "good.csv")
    return [
        (["--train", str(tmp_path / "nope.csv"), "--target", "class"], "does not exist"),
        (["--train", str(tmp_path / "binary.csv"), "--target", "class"], "could not be read"),
        (["--train", str(tmp_path / "empty.csv"), "--target", "class"], "is empty"),
        (["--train", g, "--target", "klass"], "target column 'klass' is not in"),
        (["--train", str(tmp_path / "const.csv"), "--target", "class"], "has a single value"),
        (
            ["--train", g, "--test", str(tmp_path / "fewer.csv"), "--target", "class"],
            "have different columns",
        ),
        (["--train", g, "--test", str(tmp_path / "junk.csv"), "--target", "class"], "values in"),
        (
            ["--train", str(tmp_path / "nan_target.csv"), "--target", "alcohol"],
            "missing or infinite",
        ),
        (
            ["--train", str(tmp_path / "timed.csv"), "--target", "class", "--time", "when"],
            "does not parse as dates",
        ),
        (["--train", g], "Missing option '--target'"),
        (["--train", g, "--target", "class", "--kind", "age"], "COLUMN=KIND"),
    ]


def test_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path):
    for args, expected in _bad_inputs(tmp_path):
        res = run_cli("audit", *args)
        assert res.returncode == 2, (args, res.stdout, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1, (args, res.stderr)
        assert expected in lines[0], (args, lines[0])
        assert "Traceback" not in res.stderr
        assert lines[0].startswith("tripwire: ")


def test_rows_are_positions_in_the_input_file(tmp_path):
    """Rows in findings are 0-based data-row positions, even with quoted newlines in the file."""
    df = realdata.german_credit().head(120).copy()
    df["purpose"] = df["purpose"].astype(object)
    df.loc[0, "purpose"] = "multi\nline purpose"  # one data row spanning two lines of the file
    df["age"] = df["age"].astype(object)
    df.loc[[5, 61, 99], "age"] = "??unknown"
    df["duration"] = df["duration"].astype(float)
    df.loc[[17, 42], "duration"] = -3.0  # impossible: negative duration
    df.to_csv(tmp_path / "t.csv", index=False)
    res = run_cli(
        "audit",
        "--train",
        str(tmp_path / "t.csv"),
        "--target",
        "class",
        "--checks",
        "data.",
        "--json",
        "-",
    )
    report = json.loads(res.stdout)
    by_check = {f["check"]: f for f in report["findings"]}
    assert by_check["data.mixed_types"]["rows"] == {"train": [5, 61, 99]}
    assert by_check["data.impossible_values"]["rows"] == {"train": [17, 42]}


def test_demo_runs_and_finds_planted_failures(tmp_path):
    res = run_cli("demo", "--out", str(tmp_path / "demo"))
    assert res.returncode == 0, res.stderr
    report = json.loads((tmp_path / "demo" / "report.json").read_text())
    jsonschema.validate(report, SCHEMA)
    planted = json.loads((tmp_path / "demo" / "planted.json").read_text())
    mixed = [f for f in report["findings"] if f["check"] == "data.mixed_types"]
    assert mixed and mixed[0]["rows"]["train"] == planted["junk_rows"]
    assert (tmp_path / "demo" / "report.html").stat().st_size > 10_000
    assert "HTML report:" in res.stdout
    # Step 2, the loop: drift incident -> bad candidate rejected -> good one promoted ->
    # a hand-promoted bad version rolled back by the loop, with no failed prediction.
    out = res.stdout
    assert "drift incident(s): input drift" in out, out
    assert "candidate v2 rejected by the gate" in out
    assert "candidate v3 audited and promoted" in out
    assert "rolled back v2 -> v3" in out
    assert ", 0 failed;" in out
    _dashboard_shows_the_loop(tmp_path / "demo", out, tmp_path)


def _dashboard_shows_the_loop(demo: Path, stdout: str, tmp_path: Path) -> None:
    """The demo's database on a real `tripwire serve`, its dashboard in headless Chromium."""
    import re

    from tests.browser import chromium, dump_dom, screenshot
    from tests.monitor.conftest import Server

    chromium()  # skips with the reason outside CI when the browser is absent
    db = f"sqlite:///{(demo / 'tripwire.db').resolve()}"
    found = re.search(r"#token=(\S+)", stdout)
    assert found, stdout
    token = found.group(1)
    server = Server(db, cwd=tmp_path).start()
    try:
        dom = dump_dom(f"{server.url}/#token={token}")
        assert 'data-ready="1"' in dom, dom[:2000]
        assert 'id="model-electricity"' in dom
        assert 'data-champion="3"' in dom
        for action in ("promote", "reject", "rollback", "trigger"):
            assert f'data-action="{action}"' in dom, action
        assert 'data-rule="input_drift"' in dom
        png = screenshot(f"{server.url}/#token={token}", tmp_path / "loop-dashboard.png")
        assert png.stat().st_size > 20_000
    finally:
        server.stop()


def test_python_api_matches_cli(german):
    import tripwire

    report = tripwire.audit(
        str(german / "train.csv"), str(german / "test.csv"), target="class", checks=["data."]
    )
    res = run_cli(
        "audit",
        "--train",
        str(german / "train.csv"),
        "--test",
        str(german / "test.csv"),
        "--target",
        "class",
        "--checks",
        "data.",
        "--json",
        "-",
    )
    cli_report = json.loads(res.stdout)
    assert [f["title"] for f in cli_report["findings"]] == [f.title for f in report.findings]
    assert isinstance(pd.DataFrame, type)
