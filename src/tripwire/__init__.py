"""tripwire: catch the ways machine learning models fail in the real world.

The public entry points are :func:`audit` (before deployment) and :func:`drift`
(between a reference and a current dataset). Both return a :class:`Report`.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# The functions are bound eagerly: a lazy attribute would be shadowed by the submodule of the
# same name (tripwire.audit) as soon as anything imports that submodule.
from tripwire.audit import audit
from tripwire.compare import drift
from tripwire.errors import TripwireError
from tripwire.findings import Finding, Report

__all__ = ["Finding", "Monitor", "Report", "TripwireError", "__version__", "audit", "drift"]


def __getattr__(name: str) -> Any:
    # The monitor client needs the service extra; import it only when asked for.
    if name == "Monitor":
        from tripwire.monitor.client import Monitor

        return Monitor
    raise AttributeError(f"module 'tripwire' has no attribute {name!r}")
