"""The failure zoo: the generator covers every mode and dataset, and the scorer discriminates.

The zoo is generated once at a small size (600 rows per base table); the full-size run and the
peer comparison live in benchmarks/ (``make bench-zoo``, ``make bench-peers``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
from benchmarks.zoo import compare, datasets, generate, score

AUDIT_MODES = ("labels", "leakage", "metrics", "drift", "robustness")


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("zoo")
    generate.generate(out, seed=3, max_rows=600)
    return out


def truths(zoo: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(zoo.glob("*/truth.json"))]


def test_every_mode_has_three_families_and_every_dataset_a_control(zoo: Path) -> None:
    families: dict[str, set[str]] = defaultdict(set)
    controls = set()
    for t in truths(zoo):
        for m in t["modes"]:
            families[m].add(t["family"])
        if t["control"]:
            assert t["family"] == "control" and t["label_rows"] is None
            controls.add(t["dataset"])
    for mode in AUDIT_MODES:
        assert len(families[mode]) >= 3, (mode, families[mode])
    assert controls == set(datasets.DATASETS)
    assert sum(t["control"] for t in truths(zoo)) >= 19


def test_scenarios_are_runnable_and_planted_rows_are_real(zoo: Path) -> None:
    for folder in sorted(p.parent for p in zoo.glob("*/truth.json")):
        spec = json.loads((folder / "args.json").read_text())
        truth = json.loads((folder / "truth.json").read_text())
        assert spec["command"] in ("audit", "drift")
        files = [a for a in spec["args"] if a.endswith((".csv", ".joblib"))]
        assert files and all((folder / f).exists() for f in files), folder.name
        first = pd.read_csv(folder / files[0])
        target = spec["args"][spec["args"].index("--target") + 1]
        assert target in first.columns
        rows = truth["label_rows"]
        if rows is not None:
            assert rows and max(rows) < len(first) and len(set(rows)) == len(rows)
            assert truth["modes"] == ["labels"]


def test_label_noise_changes_exactly_the_planted_rows(tmp_path: Path) -> None:
    generate.generate(tmp_path, seed=5, only=["labels-uniform-adult-10pct"], max_rows=600)
    generate.generate(tmp_path / "again", seed=5, only=["labels-uniform"], max_rows=600)
    folder = tmp_path / "labels-uniform-adult-10pct"
    truth = json.loads((folder / "truth.json").read_text())
    train = pd.read_csv(folder / "train.csv")
    assert len(truth["label_rows"]) == int(len(train) * 0.10)
    # seeded: a subset run writes the same scenario as a family run
    again = tmp_path / "again" / "labels-uniform-adult-10pct"
    assert (again / "train.csv").read_bytes() == (folder / "train.csv").read_bytes()
    assert (again / "truth.json").read_text() == (folder / "truth.json").read_text()


def test_scorer_catches_a_tool_that_flags_nothing(zoo: Path) -> None:
    s = score.score(zoo, "silent")["summary"]
    assert all(v["recall"] == 0.0 for v in s["recall"].values())
    assert set(AUDIT_MODES) <= set(s["recall"])
    assert s["label_rows"]["f1"] == 0.0 and s["label_rows"]["recall"] == 0.0
    assert s["false_alarms"] == 0 and s["crashes"] == {}


def test_scorer_catches_a_tool_that_flags_everything(zoo: Path) -> None:
    s = score.score(zoo, "alarmist")["summary"]
    assert all(v["recall"] == 1.0 for v in s["recall"].values())
    assert s["controls_with_alarm"] == s["controls"] >= 19
    assert s["false_alarms"] == 6 * s["controls"]
    lr = s["label_rows"]
    assert lr["recall"] == 1.0 and lr["precision"] < 0.2 and lr["f1"] < 0.35


def test_scorer_counts_crashes_and_keeps_going(zoo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(folder: Path) -> dict:
        raise score.ToolCrash("exit 2: boom")

    monkeypatch.setitem(score.TOOLS, "broken", broken)
    result = score.score(zoo, "broken", only=["control-drift-", "metrics-"])
    s = result["summary"]
    assert len(s["crashes"]) == s["scenarios"] > 5
    assert s["recall"]["metrics"]["recall"] == 0.0
    assert "crashes:" in score.format_summary(result)


def test_label_row_scoring_is_exact() -> None:
    truth = {"modes": ["labels"], "label_rows": [1, 2, 3, 4], "columns": ["y"]}
    report = {
        "findings": [
            {
                "mode": "labels",
                "severity": "warning",
                "rows": {"train": [2, 3, 9]},
                "columns": ["y"],
            },
            {"mode": "data", "severity": "warning", "rows": {"train": [1]}, "columns": []},
        ]
    }
    j = score.judge(truth, report)
    assert j["hit"] == {"labels": True} and j["column_hit"]
    assert j["label"] == {"tp": 2, "flagged": 3, "planted": 4}
    assert score.prf(2, 3, 4) == {"precision": 0.667, "recall": 0.5, "f1": 0.571}


def test_tripwire_runs_through_the_cli(zoo: Path) -> None:
    rec = score.score_one(zoo / "drift-label-shift-bank_marketing", "tripwire")
    assert rec["crash"] is None, rec["crash"]
    assert (zoo / "drift-label-shift-bank_marketing" / "tripwire.json").exists()
    assert isinstance(rec["hit"]["drift"], bool)


def test_peer_runs_only_on_its_task_and_a_missing_environment_is_a_crash(
    zoo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(score.PEERS, "cleanlab", ("labels", "/nonexistent/bin/python"))
    s = score.score(zoo, "cleanlab")["summary"]
    n_label = sum(t["family"].startswith("labels-") for t in truths(zoo))
    n_audit_controls = sum(t["control"] and t["command"] == "audit" for t in truths(zoo))
    assert s["scenarios"] == n_label + n_audit_controls
    assert set(s["recall"]) == {"labels"}
    assert len(s["crashes"]) == s["scenarios"]
    assert "make bench-peers" in next(iter(s["crashes"].values()))


def test_side_by_side_tables_separate_the_reference_tools(zoo: Path, tmp_path: Path) -> None:
    result = compare.compare(zoo, ["silent", "alarmist"], jobs=1)
    for task, rows in result["tasks"].items():
        loud, quiet = rows["alarmist"], rows["silent"]
        assert loud["recall"] == 1.0 and quiet["recall"] == 0.0, task
        assert loud["controls_mode_alarm"] == loud["controls"] > 0
        assert quiet["controls_any_alarm"] == 0
    assert result["tasks"]["labels"]["silent"]["label_rows"]["f1"] == 0.0
    md = compare.format_markdown(result)
    assert "| alarmist |" in md and "| drift-label-shift |" in md
    page = tmp_path / "RESULTS.md"
    page.write_text(f"# R\n{compare.START}\nold\n{compare.END}\n## next\n")
    compare.write_block(page, md)
    text = page.read_text()
    assert "old" not in text and "| silent |" in text and text.endswith("## next\n")


def test_zoo_table_states_every_mode_and_what_was_missed(zoo: Path, tmp_path: Path) -> None:
    run = {
        "started": "2026-01-01T00:00+00:00",
        "minutes": 1.0,
        "commit": "abc1234",
        "machine": "x86_64, 2 cores",
        "jobs": 1,
        "load_at_start": [1.0],
        "load_at_end": [2.0],
        "versions": {"tripwire env": "tripwire 0.1.0"},
        "command": "python -m benchmarks.zoo.compare --scenarios zoo",
    }
    n_controls = sum(t["control"] for t in truths(zoo))
    loud = compare.zoo_markdown({**run, "tripwire": score.score(zoo, "alarmist")})
    for mode in score.MODES:
        assert f"| {mode} | 1.00 |" in loud
    assert "Missed: none." in loud
    assert f"on {n_controls} of {n_controls} controls" in loud
    assert "Command: `python -m benchmarks.zoo.compare --scenarios zoo`" in loud
    quiet = compare.zoo_markdown({**run, "tripwire": score.score(zoo, "silent")})
    assert "| drift | 0.00 |" in quiet and f"on 0 of {n_controls} controls" in quiet
    planted = [t["name"] for t in truths(zoo) if not t["control"]]
    assert all(f"`{name}`" in quiet for name in planted)
    page = tmp_path / "RESULTS.md"
    page.write_text(
        f"{compare.ZOO_START}\nold\n{compare.ZOO_END}\n{compare.START}\nx\n{compare.END}\n"
    )
    compare.write_block(page, quiet, compare.ZOO_START, compare.ZOO_END)
    assert "old" not in page.read_text() and f"{compare.START}\nx\n" in page.read_text()


def test_peers_share_one_pool_and_keep_their_own_tasks(
    zoo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(score.PEERS, "cleanlab", ("labels", "/nonexistent/bin/python"))
    monkeypatch.setitem(score.PEERS, "alibi", ("drift", "/nonexistent/bin/python"))
    result = compare.compare(zoo, ["silent", "cleanlab", "alibi"], jobs=2)
    names = {tool: {r["name"] for r in recs} for tool, recs in result["records"].items()}
    ts = truths(zoo)
    assert names["cleanlab"] == {t["name"] for t in ts if score.in_task(t, "labels")}
    assert names["alibi"] == {t["name"] for t in ts if score.in_task(t, "drift")}
    assert all(r["crash"] for tool in ("cleanlab", "alibi") for r in result["records"][tool])
    assert set(result["tasks"]) == {"drift", "labels"}
    assert result["tasks"]["drift"]["alibi"]["crashes"] == len(names["alibi"])
    assert "cleanlab" not in result["tasks"]["drift"]
