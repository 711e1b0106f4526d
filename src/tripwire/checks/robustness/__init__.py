"""Failure mode 5: overfitting to benchmarks.

Where does the model fail (weak slices, rows outside the training support), how fragile is it
(perturbations, shortcuts), and how optimistic is the benchmark score (split optimism,
test-set reuse)?
"""

from tripwire.checks.robustness import coverage, optimism, perturb, reuse, shortcuts, slices

__all__ = ["coverage", "optimism", "perturb", "reuse", "shortcuts", "slices"]
