"""The Dask engine on a LocalCluster gives the local engine's profile within the sketch error."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests import realdata
from tripwire.scale import DaskEngine, LocalEngine, compare_profiles

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def parquet(tmp_path_factory):
    df = realdata.elec2()
    big = df.sample(n=100_000, replace=True, random_state=0).reset_index(drop=True)
    path = tmp_path_factory.mktemp("elec") / "elec.parquet"
    pq.write_table(pa.Table.from_pandas(big, preserve_index=False), path, row_group_size=20_000)
    return path, big


def _assert_equal_within_bounds(a, b) -> None:
    assert a.rows == b.rows and set(a.columns) == set(b.columns)
    for name, x in a.columns.items():
        y = b.columns[name]
        assert (x.count, x.missing, x.n) == (y.count, y.missing, y.n)
        if x.kind == "numeric":
            assert x.mean == pytest.approx(y.mean, rel=1e-9, abs=1e-12)
            assert x.m2 == pytest.approx(y.m2, rel=1e-7, abs=1e-9)
            assert (x.minimum, x.maximum) == (y.minimum, y.maximum)
            # Each estimate's rank in the other sketch is within both rank errors.
            qs = np.linspace(0.01, 0.99, 25)
            err = x.rank_error() + y.rank_error() + 1e-9
            ranks = y.cdf(np.array(x.quantiles(qs)))
            assert np.all(ranks >= qs - err - 1e-3)
        else:
            assert x.category_counts() == y.category_counts()
        lo, hi = y.distinct_bounds()
        assert lo <= x.distinct() <= hi


def test_dask_files_equal_local(client, parquet) -> None:
    path, _ = parquet
    local = LocalEngine(batch_rows=15_000).profile([path])
    dask = DaskEngine(client=client, row_groups_per_task=2).profile([path])
    _assert_equal_within_bounds(dask, local)
    dec = compare_profiles(local, dask)
    assert not dec.drifted


def test_dask_dataframe_equal_local(client, parquet) -> None:
    dd = pytest.importorskip("dask.dataframe")
    path, big = parquet
    ddf = dd.from_pandas(big, npartitions=3)
    dask = DaskEngine(client=client).profile([ddf])
    local = LocalEngine().profile([path])
    _assert_equal_within_bounds(dask, local)
