"""Several annotators per row: agreement, Dawid-Skene consensus and annotator quality."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from tripwire.checks import check
from tripwire.context import AuditContext
from tripwire.errors import InputError
from tripwire.findings import Finding
from tripwire.stats.annotators import (
    dawid_skene,
    disagreement,
    krippendorff_alpha,
    majority_vote,
)


def _long_table(ctx: AuditContext) -> pd.DataFrame:
    cols = list(ctx.option("label_columns", []) or [])
    if cols:
        missing = [c for c in cols if c not in ctx.train.columns]
        if missing:
            raise InputError(
                f"audit: label columns {', '.join(missing)} are not in train. "
                "Pass --label-columns with columns of train."
            )
        wide = ctx.train[cols].copy()
        wide["item"] = np.arange(len(wide))
        out = wide.melt(id_vars="item", var_name="annotator", value_name="label")
        return out.dropna(subset=["label"])
    ann = ctx.annotations
    assert ann is not None
    need = {"item", "annotator", "label"}
    if not need <= set(ann.columns):
        raise InputError(
            "audit: the annotations table needs columns item, annotator, label "
            f"(got {', '.join(map(str, ann.columns))})."
        )
    return ann[["item", "annotator", "label"]].dropna()


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds (JSON and equality stay simple)."""
    return value.item() if isinstance(value, np.generic) else value


@check("labels.annotators", mode="labels", requires=("annotations",), order=30)
def annotator_agreement(ctx: AuditContext) -> Iterator[Finding]:
    """Agreement between annotators, consensus labels and per-annotator quality."""
    long = _long_table(ctx)
    item_codes, items = pd.factorize(long["item"])
    ann_codes, anns = pd.factorize(long["annotator"].astype(str))
    lab_codes, labels = pd.factorize(long["label"].astype(str), sort=True)
    n_i, n_a, k = len(items), len(anns), len(labels)
    alpha = krippendorff_alpha(item_codes, lab_codes, k)
    ds = dawid_skene(item_codes, ann_codes, lab_codes, n_items=n_i, n_annotators=n_a, n_classes=k)
    mv = majority_vote(item_codes, lab_codes, n_i, k)
    dis = disagreement(item_codes, lab_codes, n_i, k)
    disputed = np.argsort(-(1 - ds.posterior.max(axis=1)), kind="stable")[:20]
    quality = sorted(
        (
            {
                "annotator": anns[a],
                "accuracy": round(float(ds.accuracy[a]), 4),
                "labels": int((ann_codes == a).sum()),
            }
            for a in range(n_a)
        ),
        key=lambda d: d["accuracy"],
    )
    low = alpha < 0.667
    rows: dict[str, list[int]] = {}
    if ctx.option("label_columns"):
        rows = {"train": [int(i) for i in np.asarray(items)[dis > 0]]}
    yield Finding(
        check="labels.annotators",
        mode="labels",
        severity="warning" if low else "info",
        title=f"Annotators agree {'poorly' if low else 'well'}: Krippendorff's alpha {alpha:.2f}",
        detail=(
            f"{len(long):,} labels from {n_a} annotators on {n_i:,} items. Alpha below 0.667 "
            "means the labels are not reliable enough to train on as given. Dawid-Skene "
            f"consensus differs from majority vote on {int((ds.labels != mv).sum()):,} items."
        ),
        rows=rows,
        evidence={
            "krippendorff_alpha": alpha,
            "items": n_i,
            "annotators": n_a,
            "consensus": [
                {
                    "item": _plain(items[i]),
                    "label": _plain(labels[ds.labels[i]]),
                    "confidence": round(float(ds.posterior[i].max()), 4),
                }
                for i in range(n_i)
            ],
            "consensus_differs_from_majority": int((ds.labels != mv).sum()),
            "items_in_dispute": int((dis > 0).sum()),
            "annotator_quality": quality[:50],
            "most_disputed": [
                {
                    "item": _plain(items[i]),
                    "consensus": _plain(labels[ds.labels[i]]),
                    "confidence": round(float(ds.posterior[i].max()), 4),
                }
                for i in disputed
            ],
        },
        action="Train on the Dawid-Skene consensus, re-annotate the most disputed items, and "
        "retrain or replace the annotators with the lowest estimated accuracy."
        if low
        else "Use the Dawid-Skene consensus as the label.",
    )
