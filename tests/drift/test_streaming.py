"""Streaming detectors on a real stream (elec2 prices, in time order) and on seeded errors:
changes found soon after they happen, few false alarms on stable streams."""

from __future__ import annotations

import numpy as np
import pytest

from tests import realdata
from tripwire.stats.streaming import ADWIN, PageHinkley


def test_adwin_false_alarms_and_delay():
    false_alarms = 0
    delays = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        stable = (rng.random(3000) < 0.2).astype(float)
        false_alarms += len(ADWIN(delta=0.002).update_many(stable)) > 0
        moved = np.r_[stable[:1500], (rng.random(1500) < 0.35).astype(float)]
        hits = ADWIN(delta=0.002).update_many(moved)
        hits = hits[hits >= 1500]
        delays.append(hits[0] - 1500 if len(hits) else 1500)
    assert false_alarms <= 2  # delta bounds the rate per window
    assert np.median(delays) < 400


def test_page_hinkley_on_real_values():
    hours = realdata.adult("train")["hours_per_week"].to_numpy(dtype=float)
    hours = np.random.default_rng(0).permutation(hours)  # an iid stream of real values
    sd = hours[:3000].std()
    moved = np.r_[hours[:3000], hours[3000:4000] + 0.5 * sd]
    ph = PageHinkley(delta=0.05 * sd, threshold=50 * sd, direction="up")
    hits = ph.update_many(moved)
    assert len(hits) == 1 and 3000 <= hits[0] < 3400
    quiet = PageHinkley(delta=0.05 * sd, threshold=50 * sd).update_many(hours[:20000])
    assert len(quiet) == 0


def test_bad_parameters_refused():
    with pytest.raises(ValueError, match="delta"):
        ADWIN(delta=2).update(1.0)
    with pytest.raises(ValueError, match="direction"):
        PageHinkley(direction="sideways").update(1.0)


def test_adwin_tracks_the_mean():
    d = ADWIN()
    d.update_many(np.r_[np.zeros(500), np.ones(2000)])
    assert d.estimation > 0.95 and d.width < 2500
