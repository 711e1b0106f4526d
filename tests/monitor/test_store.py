"""One contract for the store, run against a SQLite file and the real PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tripwire.errors import ConflictError, InputError, NotFoundError
from tripwire.monitor.store import Store, hash_token


def _recs(ids, t0=0.0):
    return [
        {
            "id": i,
            "timestamp": t0 + k,
            "features": {"x": k, "c": "a"},
            "prediction": 1,
            "probabilities": {"0": 0.3, "1": 0.7},
            "latency_ms": 2.5,
        }
        for k, i in enumerate(ids)
    ]


def test_migrations_create_every_table_and_are_idempotent(db_url):
    store = Store(db_url).migrate()
    store.migrate()  # a second start must be a no-op
    assert store.revision() == "0002"
    names = set(sa.inspect(store.engine).get_table_names())
    assert {
        "tw_models",
        "tw_model_versions",
        "tw_predictions",
        "tw_feedback",
        "tw_references",
        "tw_windows",
        "tw_incidents",
        "tw_tokens",
        "tw_alembic_version",
        "tw_registry_versions",
        "tw_registry_aliases",
        "tw_registry_trail",
        "tw_registry_serving",
        "tw_shadow_predictions",
    } <= names


def test_registry_created_before_the_monitor_is_migrated_over(tmp_path):
    """`tripwire registry add` on a fresh file, then `tripwire serve`: migration 0002 keeps it."""
    from sklearn.dummy import DummyClassifier

    from tripwire.lifecycle.registry import Registry

    url = f"sqlite:///{tmp_path / 'tw.db'}"
    reg = Registry(url)
    reg.add("m", DummyClassifier().fit([[0], [1]], [0, 1]), actor="test", alias="champion")
    store = Store(url).migrate()
    assert store.revision() == "0002"
    assert Registry(url).aliases("m") == {"champion": 1}


def test_ingest_is_idempotent_by_id_and_all_or_nothing(db_url):
    store = Store(db_url).migrate()
    store.create_model("m", task="classification", window_seconds=60)
    assert store.add_predictions("m", _recs(range(100))) == (100, 0)
    # A retried batch, overlapping a new one, and ids repeated inside one batch.
    assert store.add_predictions("m", _recs([*range(90, 110), 105])) == (10, 11)
    bad = _recs(range(200, 210)) + [{"id": 999, "features": {"x": 1}}]  # no prediction
    with pytest.raises(InputError, match="record 10: field 'prediction' is missing"):
        store.add_predictions("m", bad)
    assert store.summary("m")["predictions"] == 110  # nothing of the bad batch
    assert store.add_feedback("m", [{"id": i, "label": 1} for i in range(50)]) == (50, 0)
    assert store.add_feedback("m", [{"id": i, "label": 0} for i in range(40, 60)]) == (10, 10)
    counts = store.window_counts(store.get_model("m").id)
    assert sum(c[1] for c in counts) == 110 and sum(c[2] for c in counts) == 60
    assert [c[0] for c in counts] == [0, 60]  # timestamps 0..109 in 60 s windows


def test_rows_round_trip_with_types(db_url):
    store = Store(db_url).migrate()
    store.create_model("m", task="classification")
    store.add_predictions(
        "m",
        _recs(["a", "b"])
        + [
            {
                "id": "c",
                "timestamp": "1970-01-01T00:00:05Z",
                "features": {"x": None, "c": "é"},
                "prediction": "yes",
                "model_version": "3",
            }
        ],
    )
    store.add_feedback("m", [{"id": "a", "label": 0}])
    rows = store.window_rows(store.get_model("m").id, 0)
    assert rows["ids"] == ["a", "b", "c"]
    assert rows["features"][2] == {"x": None, "c": "é"}
    assert rows["probabilities"][0] == {"0": 0.3, "1": 0.7} and rows["probabilities"][2] is None
    assert rows["label"] == [0, None, None] and rows["ts"][2] == 5.0


def test_bad_input_is_refused_with_what_to_fix(db_url):
    store = Store(db_url).migrate()
    with pytest.raises(InputError, match="task must be one of classification, regression"):
        store.create_model("m", task="ranking")
    store.create_model("m", task="regression")
    assert store.create_model("m", task="regression")[1] is False
    with pytest.raises(ConflictError, match="exists with task 'regression'"):
        store.create_model("m", task="classification")
    with pytest.raises(NotFoundError, match="model 'nope' is not registered"):
        store.add_predictions("nope", _recs([1]))
    with pytest.raises(InputError, match="record 0: timestamp 'yesterday' is not ISO 8601"):
        store.add_predictions("m", [{**_recs([1])[0], "timestamp": "yesterday"}])
    with pytest.raises(InputError, match="'labels' must be a list with one entry per record"):
        store.set_reference("m", {"records": [{"x": 1}, {"x": 2}], "labels": [1]})


def test_tokens_are_stored_hashed(db_url):
    store = Store(db_url).migrate()
    token = store.create_token("ci")
    assert store.check_token(token) and not store.check_token(token + "x")
    with store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT token_hash FROM tw_tokens")).scalars().all()
    assert stored == [hash_token(token)] and token not in stored
    assert store.revoke_token("ci") == 1 and not store.check_token(token)
    assert store.tokens()[0]["revoked_at"] is not None


def test_reference_kept_as_a_profile_round_trips(db_url):
    pytest.importorskip("datasketches")
    from tests.realdata import adult
    from tripwire.scale import DatasetProfile, profile_frame

    frame = adult("test")[["age", "hours_per_week", "workclass", "occupation"]]
    prof = profile_frame(frame)
    store = Store(db_url).migrate()
    store.create_model("m", task="classification")
    assert store.set_reference("m", {"profile": prof.to_dict()}) == len(frame)
    back = DatasetProfile.from_dict(store.reference(store.get_model("m").id)["profile"])
    for name, col in prof.columns.items():
        got = back.columns[name]
        assert (got.count, got.missing, got.kind) == (col.count, col.missing, col.kind)
        if col.kind == "numeric":
            assert got.quantiles([0.1, 0.5, 0.9]) == col.quantiles([0.1, 0.5, 0.9])
        else:
            assert got.category_counts() == col.category_counts()
    with pytest.raises(InputError, match="reference.profile is damaged"):
        store.set_reference("m", {"profile": {**prof.to_dict(), "columns": [{"name": "x"}]}})
    # The stored profile is untouched by the refused one.
    assert store.reference(store.get_model("m").id)["profile"]["rows"] == len(frame)
