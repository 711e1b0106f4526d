"""The failure zoo's clean controls that used to raise robustness warnings stay quiet, and its
planted range-noise weaknesses are caught by a weak slice on the planted column.

The scenarios are generated here from the bundled data (``benchmarks.zoo.generate`` with the
zoo's seed 0 and sizes), so they are the very tables the zoo scores. Each of these controls
raised a warning before: a weak slice (adult, spambase, elec2, the crowd product table),
coverage (bank: 1.4 % of test rows outside the support, as many as random re-splits of
the same rows give) or fragility (California `longitude`, elec2 `date`: noise of 5 % of the
spread changes fewer predictions than refitting the model on a bootstrap resample does
(California), or not twice as many (elec2)).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks.zoo import generate

import tripwire

pytestmark = pytest.mark.slow

CONTROLS = ("adult", "bank_marketing", "california_housing", "elec2", "spambase")
PLANTED = ("robustness-range-noise-california_housing", "robustness-range-noise-elec2-night")


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("zoo")
    generate.generate(out, seed=0, only=[f"control-audit-{d}" for d in CONTROLS] + list(PLANTED))
    return out


def _audit(folder: Path, checks: list[str]) -> tripwire.Report:
    args = json.loads((folder / "args.json").read_text())["args"]
    target = args[args.index("--target") + 1]
    task = args[args.index("--task") + 1] if "--task" in args else None
    # paths, as the zoo's CLI run reads them
    return tripwire.audit(
        str(folder / "train.csv"), str(folder / "test.csv"), target=target, task=task, checks=checks
    )


@pytest.mark.parametrize("dataset", CONTROLS)
def test_clean_zoo_control_raises_no_robustness_warning(zoo: Path, dataset: str) -> None:
    report = _audit(zoo / f"control-audit-{dataset}", ["robustness."])
    ran = {r.check for r in report.checks if r.status == "ran"}
    assert {"robustness.weak_slices", "robustness.perturbation", "robustness.coverage"} <= ran
    assert [f.title for f in report.findings if f.sev.value != "info"] == []


def test_bank_coverage_share_is_what_a_random_split_gives(zoo: Path) -> None:
    report = _audit(zoo / "control-audit-bank_marketing", ["robustness.coverage"])
    ev = report.by_check("robustness.coverage")[0].evidence
    # rows outside exist and the model errs more there, but random re-splits of the same
    # rows leave as many outside
    assert ev["share"] >= 0.01
    assert ev["random_split_share_max"] >= ev["share"]
    assert ev["p_value_vs_random_split"] > 0.05


@pytest.mark.parametrize(
    ("scenario", "column"),
    [(PLANTED[0], "housing_median_age"), (PLANTED[1], "period")],
)
def test_planted_noisy_range_is_a_weak_slice_on_its_column(
    zoo: Path, scenario: str, column: str
) -> None:
    """Targets shuffled (or labels random) in one range, in train and test: cross-validation
    expects the large errors there, but the model's predictions carry no information about
    the outcome inside the slice, which is the warning."""
    report = _audit(zoo / scenario, ["robustness.weak_slices", "robustness.perturbation"])
    warnings = [f for f in report.findings if f.sev.value == "warning"]
    assert [f.check for f in warnings][:1] == ["robustness.weak_slices"]
    top = warnings[0]
    assert top.columns == (column,)
    assert top.evidence["no_skill"] is True
    assert top.evidence["rank_skill"] < 0.6
    # not through fragility: the rule that fired on the clean California control is gone
    assert not [f for f in warnings if f.check == "robustness.perturbation"]
