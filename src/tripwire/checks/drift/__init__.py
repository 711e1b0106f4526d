"""Failure mode 4: distribution shift.

Checks registered here run in ``tripwire audit`` (train against test) and in
``tripwire drift`` (reference against current). Rows are named after the sides the command
uses (``ctx.sides``).
"""

from tripwire.checks.drift import columns, concept, model, multivariate, performance, summary

__all__ = ["columns", "concept", "model", "multivariate", "performance", "summary"]
