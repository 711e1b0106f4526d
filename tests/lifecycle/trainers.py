"""Retraining entry points used by the loop tests (as a user's `module:function`).

They are the demo's trainers: a HistGradientBoosting fit, and a deliberately bad one that
learns from shuffled labels.
"""

from __future__ import annotations

from tripwire.demo_loop import retrain as fit
from tripwire.demo_loop import retrain_shuffled as fit_bad

__all__ = ["fit", "fit_bad"]
