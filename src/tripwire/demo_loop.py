"""Step 2 of `tripwire demo`: serve, monitor, retrain, gate, promote and roll back on Elec2.

The bundled excerpt of the Elec2 electricity market (see datasets/elec2/README.md) is served
through the same code as ``POST /v1/models/{name}/predict`` into a SQLite store beside the
demo's reports; the monitor's windows, the loop's passes and the registry's trail all land in
that database, so ``tripwire serve --db ...`` shows the whole story on its dashboard.

Time is compressed: the monitor uses 2-second windows and the stream is replayed as fast as the
machine serves it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FEATURES = ["day", "period", "nswprice", "nswdemand", "vicprice", "vicdemand", "transfer"]
TARGET = "class"
NAME = "electricity"


def load_elec2_excerpt() -> pd.DataFrame:
    """The bundled Elec2 rows (``row`` is the position in the full 45,312-row table).

    Examples
    --------
    >>> df = load_elec2_excerpt()
    >>> df.shape, df["row"].iloc[[0, -1]].tolist()
    ((7000, 10), [0, 24999])
    """
    path = resources.files("tripwire").joinpath("datasets/elec2/electricity-demo.csv.gz")
    with resources.as_file(path) as p:
        return pd.read_csv(p)


def retrain(train: pd.DataFrame, target: str) -> Any:
    """The demo's retraining entry point (``tripwire.demo_loop:retrain`` in tripwire.toml)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    X = train.drop(columns=[target])
    return HistGradientBoostingClassifier(max_iter=60, random_state=0).fit(X, train[target])


def retrain_shuffled(train: pd.DataFrame, target: str) -> Any:
    """A deliberately broken trainer (labels shuffled): the gate must reject what it makes."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    X = train.drop(columns=[target])
    y = np.random.default_rng(0).permutation(train[target].to_numpy())
    return HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)


@dataclass
class LoopStory:
    """What the demo's loop did (for the summary and for tests)."""

    db: str
    token: str
    steps: dict[str, Any] = field(default_factory=dict)
    served: int = 0
    failed: int = 0


def _config(entry: str, db: str) -> Any:
    from tripwire.lifecycle.config import parse_config

    return parse_config(
        {
            "model": {"name": NAME, "target": TARGET},
            "service": {"db": db},
            "retrain": {"entry": entry, "include_original": True},
            "triggers": {"drift_incident": True, "min_new_labels": 1_000_000},
            "gate": {"margin": 0.0, "holdout_share": 0.3},
            "rollback": {"max_drop": 0.05, "windows": 2, "window_rows": 200},
        },
        where="demo",
    )


def run_loop_story(out: Path, echo: Callable[[str], None] = print) -> LoopStory:
    from tripwire.lifecycle.loop import run_once
    from tripwire.lifecycle.registry import Registry
    from tripwire.lifecycle.serving import GuardedServer
    from tripwire.lifecycle.source import MonitorSource
    from tripwire.monitor.evaluation import evaluate
    from tripwire.monitor.store import Store

    db_file = (out / "tripwire.db").resolve()
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_file) + suffix).unlink(missing_ok=True)
    db = f"sqlite:///{db_file}"
    store = Store(db).migrate()
    registry = Registry(db, artifacts=out / "artifacts")
    server = GuardedServer(registry, store)
    story = LoopStory(db=db, token=store.create_token("demo"))
    data = load_elec2_excerpt().set_index("row")
    original = data.loc[:1999, FEATURES + [TARGET]]

    def stream(rows: pd.DataFrame, prefix: str, pace: float = 0.02) -> dict[str, int]:
        versions: dict[str, int] = {}
        for start in range(0, len(rows), 100):
            chunk = rows.iloc[start : start + 100]
            records = [
                {"id": f"{prefix}-{i}", "features": f}
                for i, f in zip(chunk.index, chunk[FEATURES].to_dict(orient="records"))
            ]
            try:
                answer = server.predict(NAME, records)
            except Exception:
                story.failed += len(records)
                continue
            story.served += len(records)
            for p in answer.predictions:
                versions[p["model_version"]] = versions.get(p["model_version"], 0) + 1
            time.sleep(pace)
        labels = [{"id": f"{prefix}-{i}", "label": y} for i, y in zip(rows.index, rows[TARGET])]
        store.add_feedback(NAME, labels)
        return versions

    def run(entry: str, audit: bool) -> Any:
        return run_once(
            _config(entry, db),
            registry,
            MonitorSource(store),
            original=original,
            audit_candidate=audit,
        )

    echo("Step 2 — serve, monitor, retrain, gate, promote, roll back (Elec2 electricity market):")
    fit_rows, ref_rows = original.loc[:1499], original.loc[1500:]
    champion = retrain(fit_rows, TARGET)
    v1 = registry.add(
        NAME,
        champion,
        actor="demo",
        train=fit_rows,
        target=TARGET,
        task="classification",
        alias="champion",
        note="trained on the first 1,500 half-hours (May-June 1996)",
    )
    # The reference: held-out half-hours with v1's outputs and the true labels, so the
    # monitor can calibrate v1's confidence before estimating accuracy without labels.
    proba = champion.predict_proba(ref_rows[FEATURES])
    store.create_model(NAME, task="classification", window_seconds=2)
    store.set_reference(
        NAME,
        {
            "records": ref_rows[FEATURES].to_dict(orient="records"),
            "labels": ref_rows[TARGET].tolist(),
            "predictions": champion.predict(ref_rows[FEATURES]).tolist(),
            "probabilities": [
                {str(c): float(p) for c, p in zip(champion.classes_, row)} for row in proba
            ],
        },
    )
    echo(f"  v{v1.version} is champion: trained on the first 1,500 half-hours of 1996.")

    # Paced so the 3,000 rows span several 2-second windows (an incident needs two in a row).
    seen = stream(data.loc[20000:22999], "a", pace=0.12)
    time.sleep(4.2)  # a window is complete once the clock is a full window past its end
    evaluate(store, NAME)
    drift = [i for i in store.incidents(store.get_model(NAME).id, "open") if "drift" in i["rule"]]
    story.steps["drift_incidents"] = len(drift)
    echo(
        f"  3,000 half-hours of 1997 served by v{v1.version} ({seen}); the monitor opened "
        f"{len(drift)} drift incident(s): {drift[0]['title'] if drift else 'none'}"
    )

    bad = run("tripwire.demo_loop:retrain_shuffled", audit=False)
    story.steps["bad"] = bad.to_dict()
    gate = bad.gate or {}
    echo(
        f"  loop (a broken trainer): triggered by {bad.triggers[0] if bad.triggers else 'nothing'}; "
        f"candidate v{bad.candidate_version} rejected by the gate: {gate.get('reason', bad.actions)}"
    )

    stream(data.loc[23000:23299], "b")
    good = run("tripwire.demo_loop:retrain", audit=True)
    story.steps["good"] = good.to_dict()
    gate = good.gate or {}
    echo(
        f"  loop (the real trainer): candidate v{good.candidate_version} audited and "
        f"{'promoted' if gate.get('promote') else 'not promoted'}: {gate.get('reason', good.actions)}"
    )

    if bad.candidate_version is not None:
        registry.promote(
            NAME,
            bad.candidate_version,
            actor="demo:operator",
            reason="promoted by hand (a mistake)",
        )
        time.sleep(server.ttl + 0.2)
        seen = stream(data.loc[23300:24299], "c")
        echo(
            f"  an operator promotes the rejected v{bad.candidate_version} by hand; it answers "
            f"{seen} ..."
        )
        rolled = run("tripwire.demo_loop:retrain", audit=False)
        story.steps["rollback"] = rolled.to_dict()
        echo(f"  loop: {'; '.join(rolled.actions)}")
        time.sleep(server.ttl + 0.2)
        seen = stream(data.loc[24300:24999], "d")
        time.sleep(4.2)
        evaluate(store, NAME)
        echo(f"  ... and the next requests are answered by {seen}.")
    story.steps["aliases"] = registry.aliases(NAME)
    echo(
        f"  {story.served:,} predictions served and logged, {story.failed} failed; "
        f"trail: {len(registry.trail(NAME))} events (tripwire registry history {NAME} --db {db})"
    )
    return story
