"""No holdout: only train given, or a test set that is (almost) the train set."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from tripwire.checks import check
from tripwire.checks.leakage._common import MODE, row_columns
from tripwire.context import AuditContext
from tripwire.findings import Finding
from tripwire.stats.neighbors import hash_rows

SAME_SHARE = 0.9
MIN_EXCESS = 0.5  # over the share of train rows that repeat within train


@check("leakage.no_holdout", mode=MODE, order=15)
def find_no_holdout(ctx: AuditContext) -> Iterator[Finding]:
    """No unseen test data: test missing, or test rows nearly all in train."""
    if ctx.test is None:
        yield Finding(
            check="leakage.no_holdout",
            mode=MODE,
            severity="warning",
            title="No test set: nothing here is held out",
            detail=(
                "Only train was given, so every score about this model comes from data it was "
                "fitted or tuned on, or from cross-validation on the same rows."
            ),
            action="Hold out a test set before any fitting or tuning (by time or group if rows are related) and pass it with --test.",
        )
        return
    cols = row_columns(ctx) or list(ctx.train.columns)
    h_test, h_train = hash_rows(ctx.test[cols]), hash_rows(ctx.train[cols])
    share = float(np.isin(h_test, h_train).mean()) if len(h_test) else 0.0
    # With few distinct inputs (vote counts, a handful of categories) an honest random split
    # also puts nearly every test row in train; only an overlap far above the repetition
    # inside train says the test set was not held out.
    within = float(pd.Series(h_train).duplicated(keep=False).mean())
    if share < SAME_SHARE or share - within < MIN_EXCESS:
        return
    yield Finding(
        check="leakage.no_holdout",
        mode=MODE,
        severity="critical",
        title=f"The test set is the train set ({share:.1%} of test rows are in train)",
        detail=(
            f"{share:.1%} of the {len(h_test):,} test rows appear in train with the same features; "
            "a score on this test set measures memory, not generalisation."
        ),
        columns=cols,
        evidence={
            "share_in_train": share,
            "share_repeated_in_train": within,
            "test_rows": len(h_test),
        },
        action="Split the data once, before any fitting, and evaluate on rows the model never saw.",
    )
