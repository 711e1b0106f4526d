"""Test-set reuse: how many models has this test set already chosen among?"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from tripwire.checks import check
from tripwire.checks.robustness.common import evaluation
from tripwire.findings import Finding

if TYPE_CHECKING:  # pragma: no cover
    from tripwire.context import AuditContext

#: From this many distinct models scored on one test set, reuse is a warning.
WARN_MODELS = 10


@check("robustness.test_reuse", mode="robustness", requires=("test", "target"), order=89)
def find_test_reuse(ctx: AuditContext) -> Iterator[Finding]:
    """Test-set reuse ledger: evaluations per test set and the optimism of the best score."""
    from tripwire.ledger import (
        expected_max_normal,
        fingerprint,
        history,
        ledger_path,
        model_id,
        record,
    )

    path = ledger_path(ctx.option("ledger"))
    ev = evaluation(ctx)
    if path is None or ev is None or ev.side != "test" or ctx.test is None:
        return
    fp = fingerprint(ctx.test[[*ctx.features, ctx.target]])
    n = len(ev.err)
    if ev.binary:
        score = 1 - float(ev.err.mean())
        se = float(np.sqrt(score * (1 - score) / n))
        metric, higher = "accuracy", True
    else:
        score = float(ev.err.mean())
        se = float(ev.err.std(ddof=1) / np.sqrt(n))
        metric, higher = "MAE", False
    me = model_id(ctx.model)
    try:
        record(path, {"test": fp, "model": me, "metric": metric, "score": score, "se": se, "n": n})
        past = history(path, fp)
    except OSError as exc:
        yield Finding(
            check="robustness.test_reuse",
            mode="robustness",
            severity="info",
            title=f"Test-set ledger not written: {exc}",
            detail=f"Could not use the ledger at {path}.",
            evidence={"ledger": str(path)},
            action="Pass --ledger with a writable file, or --ledger off.",
        )
        return
    past = [r for r in past if r.get("metric") == metric]
    best: dict[str, float] = {}
    for r in past:
        s = float(r["score"])
        m = str(r["model"])
        best[m] = max(best.get(m, s), s) if higher else min(best.get(m, s), s)
    k = len(best)
    looks = len(past)
    winner = max(best, key=lambda m: best[m]) if higher else min(best, key=lambda m: best[m])
    optimism = se * expected_max_normal(k)
    fmt = "{:.2%}" if ev.binary else "{:.4g}"
    warn = k >= WARN_MODELS
    yield Finding(
        check="robustness.test_reuse",
        mode="robustness",
        severity="warning" if warn else "info",
        title=(
            f"This test set has chosen among {k} models ({looks} evaluations): up to "
            f"{fmt.format(optimism)} of the best {metric} may be selection luck"
            if k > 1
            else f"First evaluation of {metric} on this test set recorded in the ledger"
        ),
        detail=(
            f"Test set {fp} (n = {n:,}) has {looks} recorded evaluations of {k} distinct models; "
            f"the best {metric} is {fmt.format(best[winner])} ({winner}). The standard error of "
            f"one score is {fmt.format(se)}; the best of {k} equally good models would beat their "
            f"true score by about {fmt.format(optimism)} on average (expected maximum of {k} "
            "normals), so a margin smaller than that is not evidence of a better model."
        ),
        evidence={
            "test_fingerprint": fp,
            "ledger": str(path),
            "models": k,
            "evaluations": looks,
            "best_model": winner,
            "best_score": best[winner],
            "this_model": me,
            "this_score": score,
            "standard_error": se,
            "selection_optimism": optimism,
            "metric": metric,
        },
        action=(
            "Keep a fresh, untouched test set for the final estimate; choose models on a "
            "validation split."
            if warn
            else "Nothing to do."
        ),
    )
