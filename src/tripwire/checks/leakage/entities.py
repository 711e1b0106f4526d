"""Entity leakage: the same patient, customer or device on both sides of the split.

The entity column is ``--group`` when given; otherwise identifier-like columns are found by
kind (``identifier``) or by name, keeping those whose values repeat across rows (a key unique
per row cannot leak an entity, but the same key on both sides means the same row is in both).
Label concentration per entity tells how much a model can learn the entity instead of the
task: the share of label variance between entities (correlation ratio, eta squared).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pandas as pd

from tripwire.checks import check
from tripwire.checks.leakage._common import MODE
from tripwire.context import AuditContext
from tripwire.findings import Finding

_ENTITY_NAME = re.compile(
    r"(^|_)(id|uuid|guid|key|user|customer|client|patient|subject|person|account|device|"
    r"session|household|store|site|hospital|member)s?(_?id)?$",
    re.I,
)
_NUMERIC_ID_NAME = re.compile(r"(^|_)(id|uuid|guid|key)$|^id_", re.I)
MIN_OVERLAP_SHARE = 0.01


def label_concentration(y: pd.Series, entity: pd.Series, classification: bool) -> float:
    """Eta squared: the share of label variance explained by the entity (0 none, 1 all).

    For classes, the label is one-hot and the variances are summed over classes.

    Examples
    --------
    >>> import pandas as pd
    >>> y = pd.Series([1, 1, 0, 0]); g = pd.Series(["a", "a", "b", "b"])
    >>> label_concentration(y, g, True)
    1.0
    """
    if classification:
        Y = pd.get_dummies(y.astype(str)).to_numpy(dtype=float)
    else:
        Y = pd.to_numeric(y, errors="coerce").to_numpy(dtype=float)[:, None]
    ok = np.all(np.isfinite(Y), axis=1) & entity.notna().to_numpy()
    Y, g = Y[ok], entity.to_numpy()[ok]
    total = float(((Y - Y.mean(axis=0)) ** 2).sum())
    if total == 0 or len(Y) == 0:
        return 0.0
    means = pd.DataFrame(Y).groupby(g).transform("mean").to_numpy()
    # the within-entity variance of entities seen once is zero by construction: count only
    # entities with several rows, so unique keys do not look concentrated
    counts = pd.Series(g).map(pd.Series(g).value_counts()).to_numpy()
    multi = counts > 1
    if multi.sum() < 2:
        return 0.0
    Ym, Mm = Y[multi], means[multi]
    total_m = float(((Ym - Ym.mean(axis=0)) ** 2).sum())
    within = float(((Ym - Mm) ** 2).sum())
    return 0.0 if total_m == 0 else 1 - within / total_m


def entity_columns(ctx: AuditContext) -> list[str]:
    """The entity column given by --group, or identifier-like columns found in the data."""
    if ctx.schema.roles.group:
        return [ctx.schema.roles.group]
    cols = []
    for c in [*ctx.features, *([ctx.schema.roles.id] if ctx.schema.roles.id else [])]:
        kind = ctx.kinds.get(c, "")
        if kind == "identifier" or (kind == "categorical" and _ENTITY_NAME.search(c)):
            cols.append(c)
        elif kind == "numeric" and _NUMERIC_ID_NAME.search(c):
            if np.all(np.mod(ctx.train[c].dropna().to_numpy(float), 1) == 0):
                cols.append(c)
    return cols


@check("leakage.entity_overlap", mode=MODE, requires=("test",), order=20)
def find_entity_overlap(ctx: AuditContext) -> Iterator[Finding]:
    """The same entities (group or identifier values) in train and test."""
    given = bool(ctx.schema.roles.group)
    for col in entity_columns(ctx):
        tr, te = ctx.train[col], ctx.test[col]  # type: ignore[index]
        shared_values = pd.Index(tr.dropna().unique()).intersection(pd.Index(te.dropna().unique()))
        if len(shared_values) == 0:
            continue
        in_train = te.isin(shared_values).to_numpy()
        share = float(in_train.mean())
        unique_key = tr.nunique() == tr.notna().sum() and te.nunique() == te.notna().sum()
        conc = None
        if ctx.target:
            conc = label_concentration(ctx.train[ctx.target], tr, ctx.is_classification)
        leak = share >= MIN_OVERLAP_SHARE and (given or unique_key or (conc or 0) >= 0.2)
        what = "key" if unique_key else "entity"
        severity = ("critical" if share >= 0.2 else "warning") if leak else "info"
        detail = (
            f"{len(shared_values):,} {col} value(s) appear in both train and test; they cover "
            f"{int(in_train.sum()):,} of {len(te):,} test rows ({share:.1%})."
        )
        if unique_key:
            detail += f" {col} is unique per row, so these are the same records on both sides."
        elif conc is not None:
            detail += (
                f" Within train, {conc:.0%} of the label variance lies between {col} values "
                "(eta squared), so a model can score by recognising the entity."
            )
        yield Finding(
            check="leakage.entity_overlap",
            mode=MODE,
            severity=severity,
            title=f"{share:.1%} of test rows share a {col} {what} with train",
            detail=detail,
            columns=[col],
            rows={
                "train": ctx.train.index[tr.isin(shared_values).to_numpy()].tolist(),
                "test": ctx.test.index[in_train].tolist(),  # type: ignore[union-attr]
            },
            evidence={
                "column": col,
                "given_as_group": given,
                "shared_values": int(len(shared_values)),
                "test_share": share,
                "label_concentration_eta2": conc,
                "examples": [str(v) for v in shared_values[:10]],
            },
            action=(
                f"Split by {col} (GroupShuffleSplit / GroupKFold) so that no {col} is on both sides."
                if leak
                else f"Check whether {col} identifies an entity; if it does, split by it (--group)."
            ),
        )
