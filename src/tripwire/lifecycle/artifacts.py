"""Model artifacts: saved with a hash, loaded only when the hash still matches.

Loading a joblib (pickle) file runs code from it. tripwire records the SHA-256 of every
artifact at registration and refuses to load one whose bytes changed since. Where the model
is made of scikit-learn parts, the skops format is offered: it loads without running arbitrary
code, trusting only the types listed at save time.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tripwire.errors import InputError


@dataclass(frozen=True)
class Artifact:
    path: str
    sha256: str
    format: str  # "joblib" | "skops"
    size: int


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def data_fingerprint(df: pd.DataFrame) -> str:
    """A content hash of a table (values, column names and order), independent of its index.

    Examples
    --------
    >>> a = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    >>> data_fingerprint(a) == data_fingerprint(a.set_index(pd.Index([5, 6])))
    True
    >>> data_fingerprint(a) == data_fingerprint(a.iloc[::-1])
    False
    """
    rows = pd.util.hash_pandas_object(df, index=False).to_numpy()
    h = hashlib.sha256(rows.tobytes())
    h.update("\x1f".join(map(str, df.columns)).encode())
    return h.hexdigest()


def input_schema(df: pd.DataFrame, target: str | None = None) -> dict[str, str]:
    """Column name to dtype of the model's input features."""
    return {str(c): str(t) for c, t in df.dtypes.items() if c != target}


def store_artifact(source: str | Path, directory: str | Path, name: str, version: int) -> Artifact:
    """Copy a model file into the artifact directory and record its hash."""
    src = Path(source)
    if not src.exists():
        raise InputError(
            f"model file {src} does not exist. Pass a joblib or skops file of a fitted estimator."
        )
    fmt = "skops" if src.suffix == ".skops" else "joblib"
    dest_dir = Path(directory) / name
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / f"v{version}.{fmt}"
    shutil.copyfile(src, dest)
    return Artifact(str(dest), file_sha256(dest), fmt, dest.stat().st_size)


def save_model(
    model: Any, directory: str | Path, name: str, version: int, fmt: str = "joblib"
) -> Artifact:
    """Serialise a fitted model into the artifact directory."""
    dest_dir = Path(directory) / name
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / f"v{version}.{fmt}"
    if fmt == "skops":
        import skops.io as sio

        sio.dump(model, dest)
    else:
        import joblib

        joblib.dump(model, dest)
    return Artifact(str(dest), file_sha256(dest), fmt, dest.stat().st_size)


def load_artifact(path: str | Path, sha256: str) -> Any:
    """Load a model after checking its hash; refuse a file that changed since registration."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"model artifact {p} is missing; re-register the model.")
    actual = file_sha256(p)
    if actual != sha256:
        raise InputError(
            f"model artifact {p} changed since it was registered (sha256 {actual[:12]}... != "
            f"{sha256[:12]}...); refusing to load it. Re-register the model if the change is intended."
        )
    if p.suffix == ".skops":
        import skops.io as sio

        return sio.load(p, trusted=safe_skops_types(p))
    import joblib

    return joblib.load(p)


#: Top-level packages whose types a skops file may contain and still be loaded.
SKOPS_TRUSTED_PACKAGES = ("sklearn", "numpy", "scipy", "tripwire", "builtins", "collections")


def safe_skops_types(path: str | Path) -> list[str]:
    """The types in a skops file, refusing the file when one comes from outside known packages."""
    import skops.io as sio

    found = sio.get_untrusted_types(file=path)
    unknown = [t for t in found if t.split(".")[0] not in SKOPS_TRUSTED_PACKAGES]
    if unknown:
        raise InputError(
            f"{path} holds types from outside scikit-learn/numpy/scipy: {unknown[:5]}. "
            "Inspect them, then load with skops.io.load(..., trusted=[...]) yourself, "
            "or register a joblib file if you trust its source."
        )
    return list(found)
