"""Failure mode 3, wrong metrics: the metric panel against trivial baselines, costs,
calibration that changes decisions, latency, and which metric fits the task."""

from tripwire.checks.metrics import advisor, calibration, cost_matrix, costs, latency, panel

__all__ = ["advisor", "calibration", "cost_matrix", "costs", "latency", "panel"]
