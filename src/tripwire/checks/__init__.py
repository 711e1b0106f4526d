"""The check registry.

Each module in this package registers its checks with the :func:`check` decorator; the audit
discovers every module here, so adding a failure-mode module needs no edit elsewhere.

A check is a function ``(ctx: AuditContext) -> Iterable[Finding]``. It never prints, reads
files or touches a database. ``requires`` names what the inputs must provide for the check to
run; when something is missing the check is recorded as skipped with the reason.

Requirements understood by :meth:`tripwire.context.AuditContext.missing`:
``test``, ``target``, ``classification``, ``regression``, ``time``, ``group``, ``model``
(a user model or baseline predictions on test), ``user_model``, ``annotations``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tripwire.findings import MODE_KEYS

if TYPE_CHECKING:  # pragma: no cover
    from tripwire.context import AuditContext
    from tripwire.findings import Finding

CheckFunc = Callable[["AuditContext"], "Iterable[Finding]"]


@dataclass(frozen=True)
class Check:
    id: str
    mode: str
    func: CheckFunc
    requires: tuple[str, ...] = ()
    commands: tuple[str, ...] = ("audit",)
    order: int = 50
    description: str = ""


_REGISTRY: dict[str, Check] = {}


def check(
    id: str,
    *,
    mode: str,
    requires: Iterable[str] = (),
    commands: Iterable[str] = ("audit",),
    order: int = 50,
) -> Callable[[CheckFunc], CheckFunc]:
    """Register a check function under ``id``.

    ``order`` sorts checks within the run (lower first); checks that fit models go late so
    fast facts appear first in the progress display.
    """
    if mode not in MODE_KEYS:
        raise ValueError(f"unknown mode {mode!r}")

    def register(func: CheckFunc) -> CheckFunc:
        doc = (func.__doc__ or "").strip().splitlines()
        _REGISTRY[id] = Check(
            id=id,
            mode=mode,
            func=func,
            requires=tuple(requires),
            commands=tuple(commands),
            order=order,
            description=doc[0] if doc else "",
        )
        return func

    return register


def discover() -> None:
    """Import every module of this package so their checks register themselves."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


def registered(command: str = "audit") -> list[Check]:
    """All checks that run for ``command``, in run order.

    Examples
    --------
    >>> ids = [c.id for c in registered("audit")]
    >>> "data.duplicate_rows" in ids
    True
    """
    discover()
    checks = [c for c in _REGISTRY.values() if command in c.commands]
    return sorted(checks, key=lambda c: (c.order, MODE_KEYS.index(c.mode), c.id))
