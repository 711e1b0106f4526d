"""Drift of a free-text column (SMS messages): false alarms on clean splits, power on a topic mix.

Each trial splits the de-duplicated SMS Spam Collection at random into two disjoint samples
of 2,000 messages (*clean*), and compares 2,000 ham messages with 1,700 other ham messages
plus 300 spam messages (*mixed*: 15% of current is another topic). Reported: how often the
domain classifier's p-value falls below 0.05, how often it warns, and how often the
dataset-level decision (with the column's own length test) warns.

Usage::

    python -m benchmarks.text_drift --trials 200
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from tests import realdata

import tripwire


def run(trials: int) -> str:
    from tripwire.stats.performance import wilson

    sms = realdata.sms_spam().drop_duplicates("text").reset_index(drop=True)
    ham = sms[sms["label"] == "ham"].reset_index(drop=True)
    spam = sms[sms["label"] == "spam"].reset_index(drop=True)
    counts = {k: [0, 0, 0] for k in ("clean", "mixed")}  # p < 0.05, c2st warns, dataset warns
    t0 = time.perf_counter()
    for t in range(trials):
        rng = np.random.default_rng(t)
        perm = rng.permutation(len(sms))
        pairs = {"clean": (sms.iloc[perm[:2000]], sms.iloc[perm[2000:4000]])}
        h, s = rng.permutation(len(ham)), rng.permutation(len(spam))
        pairs["mixed"] = (
            ham.iloc[h[:2000]],
            pd.concat([ham.iloc[h[2000:3700]], spam.iloc[s[:300]]]),
        )
        for kind, (ref, cur) in pairs.items():
            report = tripwire.drift(
                ref[["text"]].reset_index(drop=True),
                cur[["text"]].reset_index(drop=True),
                checks=["drift.multivariate", "drift.dataset"],
                random_state=t,
            )
            f = report.by_check("drift.multivariate")[0]
            c = counts[kind]
            c[0] += f.evidence["p_value"] < 0.05
            c[1] += f.severity.value != "info"
            c[2] += report.by_check("drift.dataset")[0].severity.value != "info"
    secs = (time.perf_counter() - t0) / (2 * trials)
    lines = [
        "| comparison | domain classifier p < 0.05 | domain classifier warns | dataset decision warns |",
        "|---|---|---|---|",
    ]
    for kind, c in counts.items():
        cells = []
        for k in c:
            lo, hi = wilson(int(k), trials)
            cells.append(f"{k}/{trials} ({k / trials:.1%}; {lo:.1%}-{hi:.1%})")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"{secs:.2f} s per comparison.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200)
    print(run(ap.parse_args().trials))


if __name__ == "__main__":
    main()
