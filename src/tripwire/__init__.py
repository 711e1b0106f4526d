"""tripwire: catch the ways machine learning models fail in the real world.

The public entry points are :func:`audit` (before deployment) and :func:`drift`
(between a reference and a current dataset). Both return a :class:`Report`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Finding", "Report", "TripwireError", "__version__", "audit", "drift"]

if TYPE_CHECKING:  # pragma: no cover
    from tripwire.audit import audit
    from tripwire.errors import TripwireError
    from tripwire.findings import Finding, Report


def __getattr__(name: str) -> Any:
    # Lazy imports keep `import tripwire` cheap and free of side effects.
    if name == "audit":
        from tripwire.audit import audit

        return audit
    if name == "drift":
        from tripwire.drift import drift

        return drift
    if name in ("Finding", "Report"):
        from tripwire import findings

        return getattr(findings, name)
    if name == "TripwireError":
        from tripwire.errors import TripwireError

        return TripwireError
    if name == "Monitor":
        from tripwire.monitor.client import Monitor

        return Monitor
    raise AttributeError(f"module 'tripwire' has no attribute {name!r}")
