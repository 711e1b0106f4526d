"""Conflicting labels: identical or nearly identical inputs that carry different labels.

Exact duplicates are found by hashing the feature values. Near duplicates use the robust
scale and nearest-neighbour search of :mod:`tripwire.stats.neighbors` (the distance of the
leakage checks): a row and its nearest other row are a *near pair* when they are closer than a
tenth of the median nearest-neighbour distance, far closer than rows usually are. (A quantile
threshold would cap the near pairs at a fixed share of rows and miss them when there are more.)

Some near pairs disagree wherever classes overlap, so a count alone says little. The test
compares the label disagreement of near pairs with that of a control band of slightly more
distant pairs (a tenth to three tenths of the median): where labels are a smooth function of
the inputs, closer pairs disagree no more often than a little further ones. Near pairs that
disagree clearly more often point to inconsistent labelling of the same thing, such as an
item labelled twice by different people.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from scipy import stats

from tripwire.checks import check
from tripwire.context import AuditContext
from tripwire.findings import Finding
from tripwire.stats.neighbors import encode_rows, hash_rows, nearest

TOP_K = 20
#: Near-duplicate search runs on at most this many rows (brute force is quadratic).
MAX_ROWS = 20_000
#: Near pairs are closer than this share of the median nearest-neighbour distance; control
#: pairs lie between it and three times it.
NEAR_FRACTION = 0.1
#: Near pairs must disagree this much more often than the control band to warn.
MIN_EXCESS = 0.05
#: A group of identical inputs with more rows than this is a coarse cell of the feature space
#: (e.g. vote counts of a crowd table), where different labels mean the features do not decide
#: the label; only smaller groups (the same item labelled a few times) count toward a warning.
MAX_ITEM_GROUP = 4
#: When this share of rows or more repeat another row's inputs, the table is coarse and
#: conflicts stay informational.
MAX_DUPLICATED_SHARE = 0.5


@check("labels.conflicts", mode="labels", requires=("target", "features"), order=20)
def conflicting_labels(ctx: AuditContext) -> Iterator[Finding]:
    """Identical inputs that carry different labels."""
    if not ctx.is_classification:
        return
    X = ctx.X("train")
    keys = pd.util.hash_pandas_object(X.astype(str), index=False).to_numpy()
    y = ctx.y("train").astype(str).to_numpy()
    df = pd.DataFrame({"k": keys, "y": y})
    n_labels = df.groupby("k")["y"].nunique()
    bad = n_labels[n_labels > 1].index
    if len(bad) == 0:
        return
    sizes = df.groupby("k").size()
    small = bad[sizes[bad].to_numpy() <= MAX_ITEM_GROUP]
    rows = np.flatnonzero(np.isin(keys, bad))
    item_rows = np.flatnonzero(np.isin(keys, small))
    index = ctx.train.index.to_numpy()
    groups = (
        pd.DataFrame({"k": keys[rows], "row": index[rows], "y": y[rows]})
        .groupby("k")
        .agg(rows=("row", list), labels=("y", list))
    )
    groups["size"] = groups["rows"].map(len)
    groups = groups.sort_values("size", kind="stable")
    share = len(rows) / len(y)
    item_share = len(item_rows) / len(y)
    # when most rows repeat another row's inputs the features are coarse (counts, few
    # categories) and identical inputs are expected: conflicts are class overlap there
    dup_share = float(sizes[sizes > 1].sum()) / len(y)
    material = item_share >= 0.005 and dup_share < MAX_DUPLICATED_SHARE
    coarse = len(bad) - len(small)
    yield Finding(
        check="labels.conflicts",
        mode="labels",
        severity="warning" if material else "info",
        title=f"{len(bad):,} groups of identical inputs carry different labels "
        f"({len(rows):,} rows)",
        detail=(
            f"{len(rows):,} training rows ({share:.1%}) share all feature values with another "
            f"row but not its label. {len(small):,} groups of at most {MAX_ITEM_GROUP} rows "
            f"({len(item_rows):,} rows, {item_share:.1%}) look like the same item labelled "
            f"inconsistently; a warning needs 0.5% of rows there and fewer than "
            f"{MAX_DUPLICATED_SHARE:.0%} of all rows repeating another row's inputs "
            f"({dup_share:.0%} do)."
            + (
                f" {coarse:,} larger groups are coarse cells of the feature space: the features "
                "do not decide the label there, which is class overlap rather than label error."
                if coarse
                else ""
            )
        ),
        columns=[ctx.target or ""],
        rows={"train": [int(index[r]) for r in item_rows]} if material else {},
        evidence={
            "groups": int(len(bad)),
            "item_groups": int(len(small)),
            "item_rows": int(len(item_rows)),
            "coarse_groups": int(coarse),
            "duplicated_share": dup_share,
            "max_item_group": MAX_ITEM_GROUP,
            "examples": groups.drop(columns="size").head(TOP_K).to_dict("records"),
        },
        action="Check these groups with the annotators; keep one agreed label per group."
        if material
        else "",
    )


def near_label_conflicts(
    X: pd.DataFrame, y: np.ndarray, numeric: list[str], categorical: list[str]
) -> dict | None:
    """Near-duplicate pairs (each row and its nearest other row) and their label agreement.

    Exact duplicates (distance 0) are left to the exact check. Returns None when there are
    too few distinct rows to calibrate the distance.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    >>> y = (X["a"] > 0).to_numpy().astype(int)
    >>> twins = X.iloc[:20] + 1e-4  # the same items again, labelled the other way
    >>> res = near_label_conflicts(pd.concat([X, twins]), np.r_[y, 1 - y[:20]], ["a", "b"], [])
    >>> res["near_conflict_rate"] > res["control_conflict_rate"], res["p_value"] < 1e-6
    (True, True)
    """
    hashes = hash_rows(X)
    first = ~pd.Series(hashes).duplicated().to_numpy()
    uniq = np.flatnonzero(first)
    if len(uniq) < 50:
        return None
    (enc,) = encode_rows(X.iloc[uniq], [], numeric, categorical)
    nb = nearest(enc, enc, exclude_self=True)
    d = nb.distance
    positive = d[d > 0]
    if positive.size < 50:
        return None
    tau = NEAR_FRACTION * float(np.median(positive))
    tau_c = 3 * tau
    yu = y[uniq]
    differ = yu != yu[nb.index]
    near = (d > 0) & (d <= tau)
    control = (d > tau) & (d <= tau_c)
    k_n, n_n = int((near & differ).sum()), int(near.sum())
    k_c, n_c = int((control & differ).sum()), int(control.sum())
    if n_n == 0 or n_c == 0:
        return None
    # one-sided test that near pairs disagree more often than control pairs (Fisher)
    p = float(stats.fisher_exact([[k_n, n_n - k_n], [k_c, n_c - k_c]], alternative="greater")[1])
    pairs = np.flatnonzero(near & differ)
    pairs = pairs[np.argsort(d[pairs], kind="stable")]
    return {
        "threshold": tau,
        "control_threshold": tau_c,
        "near_pairs": n_n,
        "near_conflicts": k_n,
        "near_conflict_rate": k_n / n_n,
        "control_pairs": n_c,
        "control_conflict_rate": k_c / n_c if n_c else 0.0,
        "p_value": p,
        "pairs": [(int(uniq[i]), int(uniq[nb.index[i]]), float(d[i])) for i in pairs],
    }


@check("labels.near_conflicts", mode="labels", requires=("target", "features"), order=21)
def near_conflicting_labels(ctx: AuditContext) -> Iterator[Finding]:
    """Nearly identical inputs that carry different labels, beyond what class overlap explains."""
    if not ctx.is_classification:
        return
    numeric = [c for c in ctx.features if ctx.kinds[c] in ("numeric", "boolean")]
    categorical = [c for c in ctx.features if ctx.kinds[c] == "categorical"]
    if not numeric:
        return  # without numeric columns a near duplicate is an exact one
    X = ctx.X("train")
    y = ctx.y("train").astype(str).to_numpy()
    sample = np.arange(len(X))
    if len(X) > MAX_ROWS:
        sample = np.sort(ctx.rng(21).choice(len(X), MAX_ROWS, replace=False))
    ctx.progress(f"near-duplicate label conflicts on {len(sample):,} rows")
    res = near_label_conflicts(X.iloc[sample], y[sample], numeric, categorical)
    if res is None or res["near_conflicts"] == 0:
        return
    index = ctx.train.index.to_numpy()
    pairs = [
        (int(index[sample[a]]), int(index[sample[b]]), dist) for a, b, dist in res.pop("pairs")
    ]
    excess = res["near_conflict_rate"] - res["control_conflict_rate"]
    material = res["p_value"] < 0.001 and excess >= MIN_EXCESS and res["near_conflicts"] >= 5
    rows = sorted({r for a, b, _ in pairs for r in (a, b)})
    yield Finding(
        check="labels.near_conflicts",
        mode="labels",
        severity="warning" if material else "info",
        title=(
            f"{res['near_conflicts']:,} pairs of nearly identical inputs carry different labels, "
            f"{res['near_conflict_rate']:.0%} of near pairs against "
            f"{res['control_conflict_rate']:.0%} of slightly more distant ones"
        ),
        detail=(
            f"Among {res['near_pairs']:,} rows whose nearest other row is closer than "
            f"a tenth of the median (robust scale, distance <= {res['threshold']:.3g}), "
            f"{res['near_conflict_rate']:.1%} carry a different label; among "
            f"{res['control_pairs']:,} slightly more distant pairs (up to "
            f"{res['control_threshold']:.3g}) {res['control_conflict_rate']:.1%} do "
            f"(one-sided Fisher p = {res['p_value']:.2g})."
            + (
                f" Searched a random sample of {len(sample):,} rows."
                if len(sample) < len(X)
                else ""
            )
            + (
                " Near copies disagree more than near neighbours do: the same thing was "
                "labelled inconsistently."
                if material
                else " Near pairs disagree no more than class overlap explains."
            )
        ),
        columns=[ctx.target or ""],
        rows={"train": rows} if material else {},
        evidence={
            **res,
            "sampled_rows": int(len(sample)),
            "top_pairs": [
                {"rows": [a, b], "labels": [str(y[a]), str(y[b])], "distance": round(dist, 4)}
                for a, b, dist in pairs[:TOP_K]
            ],
        },
        action=(
            "Review the pairs (evidence.top_pairs, closest first) with the annotators and keep "
            "one agreed label for each item."
            if material
            else ""
        ),
    )
