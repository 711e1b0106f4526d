from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from tests import realdata
from tripwire.data import Roles, infer_kind, prepare, read_table
from tripwire.errors import InputError


@pytest.mark.parametrize(
    ("values", "name", "kind"),
    [
        ([1.5, 2.25, 3.0, 4.5], "x", "numeric"),
        (["a", "b", "a", "c"], "x", "categorical"),
        ([True, False, True], "x", "boolean"),
        (["yes", "no", "no"], "x", "boolean"),
        ([0, 1, 1, 0], "x", "boolean"),
        (["2024-01-01", "2024-02-11", "2024-03-05"], "x", "datetime"),
        (list(range(50)), "customer_id", "identifier"),
        ([f"user-{i:05d}" for i in range(50)], "x", "identifier"),
        ([f"this is sentence number {i} with words" for i in range(50)], "x", "text"),
        (["1", "2", "x", "3"], "x", "numeric"),  # mostly numbers: numeric with junk
    ],
)
def test_infer_kind(values, name, kind):
    assert infer_kind(pd.Series(values), name) == kind


def test_kinds_on_real_data():
    bike = realdata.bike_hour().head(2000)
    assert infer_kind(bike["instant"], "instant") == "identifier"
    assert infer_kind(bike["dteday"], "dteday") == "datetime"
    assert infer_kind(bike["temp"], "temp") == "numeric"
    sms = realdata.sms_spam().head(500)
    assert infer_kind(sms["text"], "text") == "text"
    adult = realdata.adult().head(2000)
    assert infer_kind(adult["workclass"], "workclass") == "categorical"


def test_every_input_type_reads_to_the_same_frame(tmp_path):
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]})
    df.to_csv(tmp_path / "t.csv", index=False)
    df.to_parquet(tmp_path / "t.parquet")
    sources = [
        df,
        str(tmp_path / "t.csv"),
        tmp_path / "t.parquet",
        pl.from_pandas(df),
        pa.Table.from_pandas(df),
    ]
    for src in sources:
        got = read_table(src)
        assert got.columns.tolist() == ["a", "b"]
        assert got["a"].tolist() == [1.0, 2.0, 3.0]
        assert got.index.tolist() == [0, 1, 2]
    arr = read_table(np.arange(6.0).reshape(3, 2))
    assert arr.shape == (3, 2)


def test_semicolon_csv_is_sniffed(tmp_path):
    (tmp_path / "w.csv").write_text('"a";"b"\n1;2\n3;4\n')
    assert read_table(tmp_path / "w.csv").columns.tolist() == ["a", "b"]


def test_prepare_coerces_junk_and_records_positions():
    train = pd.DataFrame({"x": ["1", "2", "oops", "4"] * 5, "y": [0, 1] * 10})
    frames, schema = prepare({"train": train}, Roles(target="y"))
    assert schema.kinds["x"] == "numeric"
    assert list(schema.coerced[("train", "x")]) == [2, 6, 10, 14, 18]
    assert frames["train"]["x"].isna().sum() == 5
    assert schema.task == "binary" and schema.features == ("x",)


def test_kind_override_and_bad_override():
    train = pd.DataFrame({"zip": [10115, 10117, 10119, 10115] * 5, "y": [0, 1] * 10})
    _, schema = prepare({"train": train}, Roles(target="y"), kinds={"zip": "categorical"})
    assert schema.kinds["zip"] == "categorical"
    with pytest.raises(Exception, match="not one of"):
        prepare({"train": train}, Roles(target="y"), kinds={"zip": "postcode"})


def test_task_inference():
    wine = realdata.wine()
    _, schema = prepare({"train": wine}, Roles(target="quality"))
    assert schema.task == "multiclass"
    _, schema = prepare({"train": wine}, Roles(target="alcohol"))
    assert schema.task == "regression"
    _, schema = prepare({"train": wine}, Roles(target="quality"), task="regression")
    assert schema.task == "regression"


def test_prediction_column_takes_the_target_kind():
    bank = realdata.bank_additional().head(300).assign(prediction="no")
    frames, _ = prepare({"train": bank}, Roles(target="y", prediction="prediction"))
    assert set(frames["train"]["prediction"]) == {"no"}
    assert set(frames["train"]["y"]) == {"no", "yes"}


def test_missing_role_column_says_which():
    with pytest.raises(InputError, match=r"time column 'when' is not in train .*--time"):
        prepare({"train": pd.DataFrame({"y": [0, 1]})}, Roles(target="y", time="when"))


def test_ordinal_words_are_not_dates() -> None:
    # dateutil reads "10th" as the 10th of this month; adult's education column sorted this way
    # once became a datetime column.
    import pandas as pd

    from tripwire.data import infer_kind

    values = pd.Series(["10th", "11th", "12th", "1st-4th", "5th-6th", "Preschool"] * 20)
    assert infer_kind(values, "education") == "categorical"
    assert infer_kind(pd.Series(["2024-01-05", "2023-12-31"] * 20), "when") == "datetime"
    assert infer_kind(pd.Series(["Jan 5, 2024", "Feb 7, 2023"] * 20), "when") == "datetime"
