"""Loading user model artifacts.

Loading a joblib/pickle file runs code from that file: only load models you trust.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tripwire.errors import InputError


def load_model(path: str | Path) -> Any:
    """Load a fitted estimator from a joblib (or skops) file, with a clear error on failure."""
    p = Path(path)
    if not p.exists():
        raise InputError(
            f"model file {p} does not exist. Pass --model with a joblib file of a fitted estimator."
        )
    try:
        if p.suffix == ".skops":
            import skops.io as sio

            return sio.load(p, trusted=sio.get_untrusted_types(file=p))
        import joblib

        model = joblib.load(p)
    except Exception as exc:  # any unpickling failure is the user's file, not our bug
        raise InputError(
            f"model file {p} could not be loaded ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). "
            "Save the fitted estimator with joblib.dump(model, path) using the same library versions."
        ) from exc
    if not hasattr(model, "predict"):
        raise InputError(
            f"model file {p} holds a {type(model).__name__}, which has no predict(). Pass a fitted estimator."
        )
    return model
