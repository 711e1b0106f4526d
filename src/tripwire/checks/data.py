"""Failure mode 0: understanding the data.

A profile of every column and integrity checks: values of the wrong type, empty and constant
columns, impossible values, duplicate rows, the class balance and a censored target. Facts are
``info``; only problems that can mislead a model or its evaluation are ``warning``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from tripwire import charts
from tripwire.checks import check
from tripwire.context import AuditContext
from tripwire.data import Schema
from tripwire.findings import Finding

_NONNEGATIVE = re.compile(
    r"(^|_)(age|count|cnt|price|amount|qty|quantity|duration|income|salary|weight|height|"
    r"length|size|area|distance|days|years|hours|minutes|seconds|population|rooms|bedrooms|"
    r"households|balance_abs|capital_gain|capital_loss|num|n)($|_)|s?_count$|^num_|^n_",
    re.I,
)
_AGE = re.compile(r"(^|_)age($|_|_years)", re.I)
MIN_CLASS_ROWS = 10


def _sides(ctx: AuditContext) -> Iterator[tuple[str, pd.DataFrame]]:
    yield "train", ctx.train
    if ctx.test is not None:
        yield "test", ctx.test


# ---------------------------------------------------------------------------------------
# Profile
# ---------------------------------------------------------------------------------------
def profile_column(values: pd.Series, kind: str, bins: int = 20) -> dict[str, Any]:
    """Facts about one column: missing share, distinct values, range and a distribution.

    Examples
    --------
    >>> import pandas as pd
    >>> p = profile_column(pd.Series([1.0, 2.0, None, 4.0]), "numeric", bins=3)
    >>> p["missing"], p["distinct"], p["min"], p["max"], p["histogram"]["counts"]
    (0.25, 3, 1.0, 4.0, [1, 1, 1])
    """
    n = len(values)
    present = values.dropna()
    out: dict[str, Any] = {
        "kind": kind,
        "count": int(n),
        "missing": float(1 - len(present) / n) if n else 0.0,
        "distinct": int(present.nunique()),
    }
    if present.empty:
        return out
    if kind in ("numeric", "boolean"):
        x = present.to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        if x.size:
            q = np.quantile(x, [0.01, 0.25, 0.5, 0.75, 0.99])
            out.update(
                min=float(x.min()),
                max=float(x.max()),
                mean=float(x.mean()),
                std=float(x.std(ddof=1)) if x.size > 1 else 0.0,
                quantiles={"p01": q[0], "p25": q[1], "p50": q[2], "p75": q[3], "p99": q[4]},
                zeros=float(np.mean(x == 0)),
            )
            counts, edges = np.histogram(x, bins=min(bins, max(1, out["distinct"])))
            out["histogram"] = {"edges": edges.tolist(), "counts": counts.tolist()}
    elif kind == "datetime":
        t = pd.to_datetime(present)
        out.update(min=t.min().isoformat(), max=t.max().isoformat())
        secs = t.to_numpy(dtype="datetime64[s]").astype("int64").astype(float)
        counts, edges = np.histogram(secs, bins=bins)
        out["histogram"] = {
            "edges": [pd.Timestamp(e, unit="s").isoformat() for e in edges],
            "counts": counts.tolist(),
        }
    else:
        text = present.astype(str)
        vc = text.value_counts()
        out["top"] = [{"value": str(k), "count": int(v)} for k, v in vc.head(10).items()]
        out["mean_length"] = float(text.str.len().mean())
    return out


def profile_table(df: pd.DataFrame, schema: Schema) -> dict[str, Any]:
    """Profiles of every column of ``df``, with each column's role when it has one."""
    roles = {v: k for k, v in schema.roles.__dict__.items() if isinstance(v, str) and v}
    out = {}
    for col in df.columns:
        p = profile_column(df[col], schema.kinds.get(col, "categorical"))
        if col in roles:
            p["role"] = roles[col]
        out[col] = p
    return {"rows": int(len(df)), "columns": out}


# ---------------------------------------------------------------------------------------
# Integrity checks
# ---------------------------------------------------------------------------------------
@check("data.mixed_types", mode="data", order=10)
def find_mixed_types(ctx: AuditContext) -> Iterator[Finding]:
    """Values that do not match their column's kind (e.g. text in a numeric column)."""
    for (side, col), rows in ctx.schema.coerced.items():
        raw = ctx.raw.get(side)
        examples = raw.loc[list(rows)[:5], col].astype(str).tolist() if raw is not None else []
        frame = ctx.frame(side)
        share = len(rows) / max(1, int(frame[col].notna().sum()) + len(rows))
        kind = ctx.kinds[col]
        yield Finding(
            check="data.mixed_types",
            mode="data",
            severity="warning",
            title=f"{len(rows)} values in {col!r} ({side}) are not {kind}",
            detail=(
                f"Column {col!r} is {kind}, but {len(rows)} of its values in {side} "
                f"({share:.1%}) could not be read as {kind} (e.g. {', '.join(map(repr, examples[:3]))}). "
                "They were treated as missing for the audit."
            ),
            columns=[col],
            rows={side: rows},
            evidence={"count": len(rows), "share": share, "examples": examples, "kind": kind},
            action=f"Fix or remove these values at the source; if {col!r} is really categorical, "
            f"pass --kind {col}=categorical.",
        )


@check("data.empty_or_constant", mode="data", order=10)
def find_empty_or_constant(ctx: AuditContext) -> Iterator[Finding]:
    """Columns with no values at all, or a single value."""
    for col in ctx.train.columns:
        s = ctx.train[col]
        present = int(s.notna().sum())
        if present == 0:
            yield Finding(
                check="data.empty_or_constant",
                mode="data",
                severity="warning",
                title=f"Column {col!r} is empty in train",
                detail=f"All {len(s):,} values of {col!r} are missing in train.",
                columns=[col],
                evidence={"rows": len(s), "missing": len(s)},
                action="Find out why the column is empty (a broken join or export?) or drop it.",
            )
        elif s.nunique() == 1 and col != ctx.target:
            value = s.dropna().iloc[0]
            varies = ctx.test is not None and ctx.test[col].nunique() > 1
            yield Finding(
                check="data.empty_or_constant",
                mode="data",
                severity="warning" if varies else "info",
                title=f"Column {col!r} is constant in train"
                + (" but varies in test" if varies else ""),
                detail=(
                    f"Every present value of {col!r} in train is {value!r} "
                    f"({present:,} rows{', ' + format(1 - present / len(s), '.0%') + ' missing' if present < len(s) else ''}). "
                    + (
                        "In test it takes other values, which the model never saw."
                        if varies
                        else "It carries no information."
                    )
                ),
                columns=[col],
                evidence={"value": value, "present": present, "varies_in_test": varies},
                action="Drop it from the features."
                if not varies
                else "Check how the column is produced for new data.",
            )


@check("data.missing_values", mode="data", order=10)
def find_missing_values(ctx: AuditContext) -> Iterator[Finding]:
    """Columns with many missing values (a fact worth knowing, not an error)."""
    rows = []
    for col in ctx.features:
        share = float(ctx.train[col].isna().mean())
        if 0 < share < 1:
            rows.append((col, share))
    if not rows:
        return
    rows.sort(key=lambda r: -r[1])
    heavy = [r for r in rows if r[1] >= 0.3]
    yield Finding(
        check="data.missing_values",
        mode="data",
        severity="info",
        title=f"{len(rows)} feature(s) have missing values"
        + (f", {len(heavy)} over 30 %" if heavy else ""),
        detail="Missing shares in train: "
        + ", ".join(f"{c} {s:.1%}" for c, s in rows[:8])
        + ("..." if len(rows) > 8 else "."),
        columns=[c for c, _ in rows],
        evidence={
            "missing_share": {c: s for c, s in rows},
            "charts": [
                charts.bar(
                    [c for c, _ in rows[:20]],
                    {"missing share": [s for _, s in rows[:20]]},
                    title="Missing share per feature (train)",
                    y_label="share",
                )
            ],
        },
        action="Check that missingness means the same in production; see the leakage section for "
        "missingness that predicts the target.",
    )


@check("data.impossible_values", mode="data", order=10)
def find_impossible_values(ctx: AuditContext) -> Iterator[Finding]:
    """Values that cannot be true: negative counts or ages, ages over 120, dates in the future,
    probabilities outside [0, 1]."""
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    prob_cols = set(ctx.schema.roles.probabilities)
    for side, df in _sides(ctx):
        for col in df.columns:
            kind = ctx.kinds.get(col)
            s = df[col]
            rule = None
            mask = None
            if (
                kind == "numeric"
                and col != ctx.target
                or (kind == "numeric" and ctx.task == "regression")
            ):
                x = s.to_numpy(dtype=float)
                if col in prob_cols:
                    mask, rule = (x < 0) | (x > 1), "a probability outside [0, 1]"
                elif _AGE.search(col):
                    mask, rule = (x < 0) | (x > 120), "an age below 0 or above 120"
                elif _NONNEGATIVE.search(col):
                    mask, rule = (
                        x < 0,
                        "negative, though the name says it counts or measures something",
                    )
            elif kind == "datetime":
                t = pd.to_datetime(s)
                mask, rule = (t > now).to_numpy(), f"a date in the future (after {now:%Y-%m-%d})"
            if mask is None or not np.any(mask):
                continue
            rows = df.index[np.asarray(mask, dtype=bool)]
            examples = s.loc[rows[:5]].astype(str).tolist()
            yield Finding(
                check="data.impossible_values",
                mode="data",
                severity="warning",
                title=f"{len(rows)} impossible value(s) in {col!r} ({side})",
                detail=f"{len(rows)} value(s) of {col!r} in {side} are {rule} (e.g. {', '.join(examples[:3])}).",
                columns=[col],
                rows={side: rows.tolist()},
                evidence={"count": len(rows), "rule": rule, "examples": examples},
                action="Correct them at the source, or set them missing if they are sentinels (e.g. -1 for unknown).",
            )


@check("data.duplicate_rows", mode="data", order=10)
def find_duplicate_rows(ctx: AuditContext) -> Iterator[Finding]:
    """Rows repeated exactly (all columns) within train or within test."""
    for side, df in _sides(ctx):
        hashed = pd.util.hash_pandas_object(df, index=False)
        dup = hashed.duplicated(keep="first").to_numpy()
        n = int(dup.sum())
        if n == 0:
            continue
        share = n / len(df)
        groups = hashed[hashed.duplicated(keep=False)].groupby(hashed).groups
        top = sorted(groups.values(), key=len, reverse=True)[:5]
        yield Finding(
            check="data.duplicate_rows",
            mode="data",
            # A fact of the table, not an alarm: repeated rows are a problem when they inflate
            # validation or cross the split, which leakage.train_duplicates (measured CV
            # inflation) and leakage.train_test_duplicates (against the chance rate) decide.
            # Few distinct inputs (vote counts, a handful of categories) repeat honestly.
            severity="info",
            title=f"{n:,} duplicate row(s) in {side} ({share:.1%})",
            detail=(
                f"{n:,} rows of {side} repeat an earlier row exactly, in {len(groups):,} group(s). "
                "Repeated rows weigh more in training and, split across folds, inflate validation scores."
            ),
            rows={side: df.index[dup].tolist()},
            evidence={
                "duplicates": n,
                "share": share,
                "groups": len(groups),
                "largest_groups": [[int(i) for i in g] for g in top],
            },
            action="Deduplicate before splitting, or keep duplicates in the same fold (--group).",
        )


@check("data.class_balance", mode="data", requires=("target", "classification"), order=10)
def find_class_balance(ctx: AuditContext) -> Iterator[Finding]:
    """Class shares of the target in train (and test)."""
    counts = {side: df[ctx.target].astype(str).value_counts() for side, df in _sides(ctx)}
    classes = [str(c) for c in ctx.schema.classes]
    train_counts = counts["train"].reindex(classes, fill_value=0)
    shares = {
        side: (c.reindex(classes, fill_value=0) / c.sum()).tolist() for side, c in counts.items()
    }
    rare = [c for c in classes if train_counts[c] < MIN_CLASS_ROWS]
    minority = float(train_counts.min() / train_counts.sum())
    detail = "Train: " + ", ".join(f"{c} {s:.1%}" for c, s in zip(classes, shares["train"]))
    if "test" in shares:
        detail += "; test: " + ", ".join(f"{c} {s:.1%}" for c, s in zip(classes, shares["test"]))
    yield Finding(
        check="data.class_balance",
        mode="data",
        severity="warning" if rare else "info",
        title=(
            f"Class(es) {', '.join(rare)} have fewer than {MIN_CLASS_ROWS} training rows"
            if rare
            else f"Class balance: minority class is {minority:.1%} of train"
        ),
        detail=detail + ".",
        columns=[str(ctx.target)],
        evidence={
            "counts": {side: {k: int(v) for k, v in c.items()} for side, c in counts.items()},
            "minority_share": minority,
            "charts": [
                charts.bar(
                    classes,
                    {side: s for side, s in shares.items()},
                    title="Class shares",
                    y_label="share of rows",
                )
            ],
        },
        action=(
            "Collect more examples of the rare classes or merge them; evaluate with per-class recall."
            if rare
            else "With imbalance, judge the model by balanced accuracy, PR-AUC or costs, not accuracy."
        ),
    )


@check("data.target_capped", mode="data", requires=("target", "regression"), order=10)
def find_capped_target(ctx: AuditContext) -> Iterator[Finding]:
    """A regression target piled up at its maximum or minimum: censored values."""
    y = ctx.y("train").to_numpy(dtype=float)
    for end, value in (("maximum", y.max()), ("minimum", y.min())):
        at = y == value
        share = float(at.mean())
        # A pile at the edge: far more rows than the neighbouring values hold.
        neighbourhood = np.abs(y - value) <= (np.std(y) * 0.05)
        if share < 0.01 or at.sum() < 20 or at.sum() < 0.5 * neighbourhood.sum():
            continue
        if end == "minimum" and value == 0:
            continue  # zero-inflated counts are common and not censoring
        rows = ctx.train.index[at]
        yield Finding(
            check="data.target_capped",
            mode="data",
            severity="warning",
            title=f"Target {ctx.target!r} looks capped at its {end} {value:g} ({share:.1%} of rows)",
            detail=(
                f"{int(at.sum()):,} training rows have exactly {value:g}, the {end} of {ctx.target!r}. "
                "Values beyond it were probably clipped, so the model cannot learn them and errors there are understated."
            ),
            columns=[str(ctx.target)],
            rows={"train": rows.tolist()},
            evidence={"value": value, "count": int(at.sum()), "share": share},
            action="Treat these rows as censored: drop them, model the cap explicitly, or report metrics without them.",
        )
