"""The clustered (inverted-file) nearest-neighbour search against the exact search, on real rows."""

from __future__ import annotations

import numpy as np
import pytest

from tests import realdata
from tripwire.stats.neighbors import ClusteredNeighbours, encode_rows, near_threshold, nearest


@pytest.fixture(scope="module")
def rows() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    df = realdata.california().drop(columns=["median_house_value"])
    df = df.sample(frac=1, random_state=0).reset_index(drop=True)
    num = [c for c in df.columns if c != "ocean_proximity"]
    tr, te = df.iloc[:12000], df.iloc[12000:18000].copy()
    rng = np.random.default_rng(0)
    # 300 test rows are train rows moved by 0.1% of a column's IQR
    planted = rng.choice(len(te), 300, replace=False)
    src = tr.iloc[rng.choice(len(tr), 300, replace=False)]
    iqr = (tr[num].quantile(0.75) - tr[num].quantile(0.25)).to_numpy()
    moved = src[num].to_numpy() + rng.normal(0, 1e-3, (300, len(num))) * iqr
    te.iloc[planted, [te.columns.get_loc(c) for c in num]] = moved
    te.iloc[planted, te.columns.get_loc("ocean_proximity")] = src["ocean_proximity"].to_numpy()
    a, b = encode_rows(tr, [te], num, ["ocean_proximity"])
    return a, b, planted


def test_clustered_search_finds_the_near_pairs_of_the_exact_search(rows) -> None:  # type: ignore[no-untyped-def]
    a, b, planted = rows
    sample = np.arange(0, len(a), 4)
    tau = near_threshold(nearest(a, a[sample], exclude_self=True, query_rows=sample).distance)
    exact = nearest(a, b)
    index = ClusteredNeighbours(random_state=0).fit(a)
    approx = index.query(b)
    truth = exact.distance <= tau
    found = approx.distance <= tau
    assert truth.sum() > 300 and (found & ~truth).sum() == 0  # distances are exact
    assert found[truth].mean() >= 0.99 and found[planted].all()
    # a candidate's distance is never below the true nearest distance
    assert np.all(approx.distance >= exact.distance - 1e-5)
    # excluding each row itself gives the nearest other row, like the exact search
    own = index.query(a[sample], exclude=sample)
    ref = nearest(a, a[sample], exclude_self=True, query_rows=sample)
    assert not np.any(own.index == sample) and np.mean(own.distance <= ref.distance + 1e-5) > 0.95


def test_probing_every_cell_is_the_exact_search(rows) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = rows
    index = ClusteredNeighbours(n_clusters=20, probes=20, random_state=1).fit(a)
    np.testing.assert_allclose(index.query(b).distance, nearest(a, b).distance, atol=1e-4)
