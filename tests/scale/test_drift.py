"""Drift from profiles: planted shifts found, clean data quiet, agreement with exact tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests import realdata
from tripwire.scale import compare_profiles, profile_drift, profile_frame
from tripwire.stats import univariate
from tripwire.stats.decision import decide


def _table(rng: np.random.Generator, n: int, shift: bool) -> pd.DataFrame:
    cats = np.array([f"v{i}" for i in range(50)])
    p = 1 / np.arange(1, 51) ** 1.2
    q = p.copy()
    if shift:
        q[[0, 1]], q[[-1, -2]] = q[[-1, -2]], q[[0, 1]]  # two common and two rare swap places
    df = pd.DataFrame(
        {
            "normal": rng.normal(size=n),
            "tiny": rng.normal(0.01 if shift else 0.0, 1, n),  # real but negligible
            "scaled": rng.lognormal(0, 0.5, n) * (1.3 if shift else 1.0),
            "steady": rng.exponential(size=n),
            "counts": rng.poisson(3, n),
            "plan": pd.Categorical.from_codes(rng.choice(50, n, p=q / q.sum()), cats),
            "region": pd.Categorical.from_codes(rng.integers(0, 8, n), cats[:8]),
        }
    )
    df.loc[rng.random(n) < (0.06 if shift else 0.02), "steady"] = np.nan
    return df


@pytest.fixture(scope="module")
def big() -> tuple:
    rng = np.random.default_rng(7)
    n = 1_000_000  # large enough that every exact test of the tiny shift is significant
    ref = profile_frame(_table(rng, n, False))
    cur = profile_frame(_table(rng, n, True))
    same = profile_frame(_table(rng, n, False))
    return ref, cur, same


def test_flags_exactly_the_shifted_columns(big: tuple) -> None:
    ref, cur, _ = big
    dec = compare_profiles(ref, cur)
    assert set(dec.columns("drift")) == {"scaled", "plan", "steady"}
    # The 0.01 SD shift is significant at 1M rows but stays below the effect bar.
    tiny = [s for r, s in zip(dec.results, dec.statuses) if r.column == "tiny"]
    assert tiny and tiny[0] in ("negligible", "ok")
    steady = [
        r.method for r, s in zip(dec.results, dec.statuses) if r.column == "steady" and s == "drift"
    ]
    assert steady == ["missing_rate"]


def test_quiet_on_unchanged_data(big: tuple) -> None:
    ref, _, same = big
    dec = compare_profiles(ref, same)
    assert not dec.drifted and dec.columns("drift") == []


def test_report_findings_carry_evidence(big: tuple) -> None:
    ref, cur, _ = big
    report = profile_drift(ref, cur)
    warned = [f for f in report.findings if f.check == "drift.columns" and f.severity != "info"]
    assert {f.columns[0] for f in warned} == {"scaled", "plan", "steady"}
    for f in warned:
        ev = f.evidence
        assert ev["effect_interval"][0] > 0 and "sketch_error" in ev and f.action
    assert report.exit_code() == 0  # warnings, not critical


def test_merged_windows_compare_like_one_profile(big: tuple) -> None:
    rng = np.random.default_rng(3)
    day1, day2 = _table(rng, 300_000, True), _table(rng, 300_000, True)
    merged = profile_frame(day1).merge(profile_frame(day2))
    ref = big[0]
    a = compare_profiles(ref, merged)
    b = compare_profiles(ref, profile_frame(pd.concat([day1, day2], ignore_index=True)))
    assert a.columns("drift") == b.columns("drift")


@pytest.mark.parametrize(
    "name, load, split",
    [
        ("elec2", realdata.elec2, "halves"),
        ("adult", realdata.adult, "train-test"),
        ("bank", realdata.bank_full, "halves"),
    ],
)
def test_sketch_decisions_agree_with_exact_tests(name: str, load, split: str) -> None:
    if split == "train-test":
        ref, cur = load("train"), load("test")
    else:
        df = load()
        ref, cur = df.iloc[: len(df) // 2], df.iloc[len(df) // 2 :]
    sk = compare_profiles(profile_frame(ref), profile_frame(cur))
    exact_results = []
    for c in {r.column for r in sk.results}:
        kind = "numeric" if pd.api.types.is_numeric_dtype(ref[c]) else "categorical"
        exact_results.append(univariate.test_column(ref[c], cur[c], kind))
    exact = decide(exact_results)
    sketch_cols = set(sk.columns("drift"))
    exact_cols = set(exact.columns("drift"))
    # Every large shift (effect at least twice the bar, by the exact test) is found from the
    # sketches, and the sketches never flag a column the exact tests call unchanged.
    large = {
        r.column
        for r, s in zip(exact.results, exact.statuses)
        if s == "drift"
        and r.effect_name in ("ks_distance", "total_variation")
        and r.effect_low >= 0.05
    }
    assert large <= sketch_cols, (name, large - sketch_cols)
    ok_exact = {r.column for r, s in zip(exact.results, exact.statuses) if s == "ok"}
    assert not (sketch_cols & ok_exact - exact_cols), (name, sketch_cols & ok_exact)


def test_high_cardinality_column_beyond_the_sketch_stays_testable() -> None:
    """6,000 categories overflow the frequent-items map (not exact any more): a swap among the
    common categories is still found, through the leading categories, and unchanged data
    stays quiet."""
    rng = np.random.default_rng(11)
    k, n = 6000, 300_000
    p = 1 / np.arange(1, k + 1) ** 1.1
    p /= p.sum()
    q = p.copy()
    q[[0, 1, 2, 3]], q[[10, 11, 12, 13]] = p[[10, 11, 12, 13]], p[[0, 1, 2, 3]]
    cats = np.array([f"z{i}" for i in range(k)])

    def frame(shares: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({"zip": pd.Categorical.from_codes(rng.choice(k, n, p=shares), cats)})

    ref = profile_frame(frame(p))
    assert ref.columns["zip"].share_error() > 0  # the sketch is approximate
    shifted = compare_profiles(ref, profile_frame(frame(q)))
    same = compare_profiles(ref, profile_frame(frame(p)))
    (r,) = shifted.results
    assert shifted.statuses == ("drift",) and r.extra["compared_categories"] < k
    assert r.effect_low > 0.2 and r.extra["sketch_error"] < 0.01
    assert same.statuses == ("ok",), same.results[0]
    # Over all 6,000 categories the sketch error alone would exceed any effect.
    assert k * ref.columns["zip"].share_error() > 0.3
