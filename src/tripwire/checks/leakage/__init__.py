"""Failure mode 2: data leakage.

One module per kind of leakage (Kapoor and Narayanan, 2023): ``duplicates`` (train/test
duplicates, exact and near, and duplicates inside train), ``entities`` (the same entity on
both sides), ``temporal`` (the future in train or in the features), ``target`` (features that
give the label away), ``preprocessing`` (a fitted pipeline that saw the test set), ``scaling`` (data scaled with
test statistics before they were handed over) and ``holdout`` (no unseen data at all).

References
----------
Kapoor, S. and Narayanan, A. (2023). Leakage and the reproducibility crisis in machine-learning-
based science. Patterns 4(9).
"""

from tripwire.checks.leakage import (  # noqa: F401
    duplicates,
    entities,
    holdout,
    preprocessing,
    scaling,
    target,
    temporal,
)
