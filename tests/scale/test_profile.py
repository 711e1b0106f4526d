"""Profiles: exact parts equal numpy/pandas, sketches within their error, merge and file format."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests import realdata
from tripwire.errors import InputError
from tripwire.scale import LocalEngine, load_profile, profile, profile_frame
from tripwire.scale.profile import DatasetProfile


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return realdata.adult("train")


def test_profile_matches_pandas_on_adult(adult: pd.DataFrame) -> None:
    prof = profile_frame(adult)
    assert prof.rows == len(adult)
    for name, col in prof.columns.items():
        s = adult[name]
        assert col.count == len(s)
        assert col.missing == int(s.isna().sum())
        if col.kind == "numeric":
            x = s.dropna().to_numpy(float)
            assert col.mean == pytest.approx(x.mean(), rel=1e-12)
            assert col.std == pytest.approx(x.std(ddof=1), rel=1e-9)
            assert (col.minimum, col.maximum) == (x.min(), x.max())
            # Quantiles within the KLL rank error: the true rank of each estimate is close.
            for q, est in zip((0.1, 0.5, 0.9), col.quantiles([0.1, 0.5, 0.9])):
                lo, hi = (x < est).mean(), (x <= est).mean()
                assert lo - col.rank_error() - 1e-9 <= q <= hi + col.rank_error() + 1e-9
            lo, hi = col.distinct_bounds()
            assert lo <= s.nunique() <= hi
        else:
            exact = s.dropna().astype(str).value_counts()
            got = col.category_counts()
            assert col.share_error() == 0.0  # few categories: the sketch is exact
            assert got == {k: float(v) for k, v in exact.items()}
            assert col.distinct() == s.nunique()


def test_merge_of_parts_equals_whole(adult: pd.DataFrame) -> None:
    parts = np.array_split(np.arange(len(adult)), 7)
    merged = profile_frame(adult.iloc[parts[0]])
    for idx in parts[1:]:
        merged = merged.merge(profile_frame(adult.iloc[idx]))
    whole = profile_frame(adult)
    for name, w in whole.columns.items():
        m = merged.columns[name]
        assert (m.count, m.missing, m.n) == (w.count, w.missing, w.n)
        if w.kind == "numeric":
            assert m.mean == pytest.approx(w.mean, rel=1e-12)
            assert m.m2 == pytest.approx(w.m2, rel=1e-9)
        else:
            assert m.category_counts() == w.category_counts()


def test_save_load_roundtrip_and_version_check(adult: pd.DataFrame, tmp_path) -> None:
    prof = profile_frame(adult)
    path = tmp_path / "adult.twprofile"
    prof.save(path)
    back = load_profile(path)
    assert back.summary() == prof.summary()
    d = json.loads(path.read_text())
    assert (d["format"], d["version"]) == ("tripwire-profile", 1)
    d["version"] = 99
    path.write_text(json.dumps(d))
    with pytest.raises(InputError, match="format version 99"):
        load_profile(path)
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(InputError, match="not a tripwire profile"):
        load_profile(tmp_path / "x.json")


def test_merge_refuses_different_columns(adult: pd.DataFrame) -> None:
    a = profile_frame(adult[["age", "sex"]])
    b = profile_frame(adult[["age"]])
    with pytest.raises(InputError, match="different columns"):
        a.merge(b)


def test_streaming_csv_and_parquet_in_small_batches(adult: pd.DataFrame, tmp_path) -> None:
    csv = tmp_path / "adult.csv"
    adult.to_csv(csv, index=False)
    table = pa.Table.from_pandas(adult, preserve_index=False)
    pq.write_table(table, tmp_path / "adult.parquet", row_group_size=5000)
    whole = profile_frame(adult)
    for src in (csv, tmp_path / "adult.parquet"):
        streamed = LocalEngine(batch_rows=3000).profile([src])
        assert streamed.rows == whole.rows
        for name in ("age", "hours-per-week", "workclass", "education"):
            if name not in whole.columns:
                continue
            a, b = streamed.columns[name], whole.columns[name]
            assert (a.count, a.missing) == (b.count, b.missing)
            if a.kind == "numeric":
                assert a.mean == pytest.approx(b.mean, rel=1e-9)
            else:
                assert a.category_counts() == b.category_counts()


def test_missing_file_and_bad_column_are_clear(tmp_path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        profile(str(tmp_path / "nope.parquet"))
    pd.DataFrame({"x": [1.0, 2.0]}).to_parquet(tmp_path / "t.parquet")
    with pytest.raises(InputError, match=r"\['y'\] are not in the data"):
        profile(str(tmp_path / "t.parquet"), columns=["y"])


def test_empty_profile_dict_shape() -> None:
    p = profile_frame(pd.DataFrame({"x": [np.nan, np.nan], "c": [None, "a"]}))
    assert p.columns["x"].missing == 2 and p.columns["x"].summary()["mean"] is None
    assert isinstance(DatasetProfile.from_dict(p.to_dict()), DatasetProfile)
