from __future__ import annotations

import sys
import textwrap

import pandas as pd
import pytest

from tripwire.errors import InputError, UsageError
from tripwire.lifecycle.config import load_config, parse_config
from tripwire.lifecycle.retrain import assemble_training_set, train_candidate

GOOD = """
[model]
name = "elec"
target = "class"
[retrain]
entry = "trainer_mod:fit"
[triggers]
every_hours = 24
performance_drop = 0.04
[gate]
slice_columns = ["day"]
"""


def test_documented_example_parses(tmp_path):
    from tripwire.lifecycle import config

    doc = config.__doc__.split("::", 1)[1]
    (tmp_path / "tripwire.toml").write_text(textwrap.dedent(doc))
    cfg = load_config(tmp_path / "tripwire.toml")
    assert cfg.name == "electricity" and cfg.retrain.entry == "mypackage.training:fit"
    assert cfg.triggers.every_seconds == 168 * 3600 and cfg.gate.slice_columns == ("day",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[model]\nname='m'", "needs 'target'"),
        (
            "[model]\nname='m'\ntarget='y'\n[gate]\nlevel=2",
            "level] must be a number between 0.5 and 0.999",
        ),
        ("[model]\nname='m'\ntarget='y'\n[gates]\nx=1", "unknown section [gates]"),
        ("[model]\nname='m'\ntarget='y'\n[gate]\nmargn=1", "unknown key(s) margn in [gate]"),
        ("[model]\nname='m'\ntarget='y'\n[retrain]\nentry='nocolon'", "package.module:function"),
        ("[model]\nname='m'\ntarget='y'\n[retrain]\nentry='a:b'\ncommand='x'", "exactly one of"),
        ("[model\nname='m'", "not valid TOML"),
    ],
)
def test_bad_config_says_which_key(tmp_path, text, message):
    (tmp_path / "t.toml").write_text(text)
    with pytest.raises(UsageError) as err:
        load_config(tmp_path / "t.toml")
    assert message in str(err.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_entry_point_and_command_both_train_a_real_model(tmp_path, monkeypatch):
    (tmp_path / "trainer_mod.py").write_text(
        textwrap.dedent("""
        from sklearn.linear_model import LogisticRegression
        def fit(train, target):
            return LogisticRegression().fit(train.drop(columns=[target]), train[target])
    """)
    )
    (tmp_path / "train_cmd.py").write_text(
        textwrap.dedent("""
        import sys, joblib, pandas as pd
        from sklearn.tree import DecisionTreeClassifier
        args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
        df = pd.read_csv(args["--train"])
        y = df.pop(args["--target"])
        joblib.dump(DecisionTreeClassifier(max_depth=3).fit(df, y), args["--out"])
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    train = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0] * 10, "class": [0, 0, 1, 1] * 10})
    cfg = parse_config(
        {"model": {"name": "m", "target": "class"}, "retrain": {"entry": "trainer_mod:fit"}}
    )
    assert train_candidate(cfg.retrain, train, "class", tmp_path / "w1").predict(
        train[["x"]]
    ).tolist()[:4] == [0, 0, 1, 1]
    cmd = f"{sys.executable} {tmp_path / 'train_cmd.py'} --train {{train}} --target {{target}} --out {{model}}"
    cfg = parse_config({"model": {"name": "m", "target": "class"}, "retrain": {"command": cmd}})
    assert train_candidate(cfg.retrain, train, "class", tmp_path / "w2").predict(
        train[["x"]]
    ).tolist()[:4] == [0, 0, 1, 1]


def test_failing_command_reports_its_last_line(tmp_path):
    cfg = parse_config(
        {
            "model": {"name": "m", "target": "y"},
            "retrain": {"command": f"{sys.executable} -c \"raise SystemExit('no data here')\""},
        }
    )
    with pytest.raises(InputError, match="no data here"):
        train_candidate(cfg.retrain, pd.DataFrame({"y": [1]}), "y", tmp_path)


def test_assembled_set_needs_labels():
    with pytest.raises(InputError, match="no label column"):
        assemble_training_set(
            pd.DataFrame({"x": [1]}),
            "y",
            None,
            parse_config({"model": {"name": "m", "target": "y"}}).retrain,
        )
