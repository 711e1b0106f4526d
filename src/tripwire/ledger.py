"""The test-set reuse ledger: a local JSON-lines file of evaluations keyed by test set.

Every audit with a labelled test set appends one record (test-set fingerprint, model, metric,
score, its standard error, time). When the same test set has been used to choose among many
models, the best score is partly luck: with ``k`` looks at a score measured with standard error
``se``, the expected maximum of ``k`` equally good models is about ``se * E[max of k standard
normals]`` above their common true score.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

DEFAULT = "~/.tripwire/ledger.jsonl"


def ledger_path(option: str | None) -> Path | None:
    """The ledger file: the option, else ``$TRIPWIRE_LEDGER``; ``on``/``default`` means
    ``~/.tripwire/ledger.jsonl``; unset or ``off`` disables it (an audit without a ledger
    stays reproducible: the same inputs and seed give the same findings)."""
    raw = option or os.environ.get("TRIPWIRE_LEDGER")
    if not raw or raw.lower() in ("off", "none", "no", "false"):
        return None
    if raw.lower() in ("on", "default", "yes", "true"):
        raw = DEFAULT
    return Path(raw).expanduser()


def fingerprint(frame: pd.DataFrame) -> str:
    """Order-independent fingerprint of a table's rows and column names."""
    h = pd.util.hash_pandas_object(frame.reset_index(drop=True), index=False).to_numpy()
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, sorted(frame.columns))).encode())
    digest.update(np.sort(h).tobytes())
    return digest.hexdigest()[:20]


def model_id(model: Any) -> str:
    """A stable name for a model: class and a hash of its parameters."""
    if model is None:
        return "tripwire baseline"
    name = type(model).__name__
    try:
        params = repr(sorted(model.get_params(deep=True).items(), key=lambda kv: kv[0]))
    except Exception:
        params = repr(model)
    return f"{name}:{hashlib.sha256(params.encode()).hexdigest()[:10]}"


def record(path: Path, entry: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {**entry, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, sort_keys=True) + "\n")


def history(path: Path, test_fingerprint: str) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if rec.get("test") == test_fingerprint:
            out.append(rec)
    return out


def expected_max_normal(k: int) -> float:
    """E[max of k independent standard normals] (Blom's approximation; 0 for k = 1).

    >>> round(expected_max_normal(10), 2)
    1.55
    """
    if k <= 1:
        return 0.0
    return float(stats.norm.ppf((k - 0.375) / (k + 0.25)))
