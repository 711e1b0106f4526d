"""Drift as the model sees it: prediction drift, label shift, importance-weighted shift,
estimated and realized performance."""

from __future__ import annotations
