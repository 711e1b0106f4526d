"""Streaming change detectors: pure kernels fed one value at a time (an error, a score, a
feature value), for the monitor's live windows. One detector per module.

Every detector has ``update(x) -> bool`` (True when a change is detected at this value),
``update_many(xs) -> positions of detections`` and ``reset()``.
"""

from tripwire.stats.streaming.adwin import ADWIN
from tripwire.stats.streaming.page_hinkley import PageHinkley

__all__ = ["ADWIN", "PageHinkley"]
