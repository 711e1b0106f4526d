"""One evaluation pass: windows, then incidents, then notifications; and its schedule."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from tripwire.monitor.store import Store

log = logging.getLogger("tripwire.monitor")


def evaluate(
    store: Store,
    model: str | None = None,
    *,
    notifiers: Sequence[Any] = (),
    now: float | None = None,
) -> dict[str, Any]:
    """Evaluate changed windows of one model (or all) and reconcile their incidents.

    Returns ``{model: {"windows": n, "events": [...]}}``.
    """
    # Imported here: scipy and pandas take seconds to import, and `serve` should start fast.
    from tripwire.monitor.alerts import derive_incidents, reconcile
    from tripwire.monitor.windows import evaluate_model, settings

    models = [store.get_model(model)] if model is not None else store.models()
    out: dict[str, Any] = {}
    for info in models:
        cfg = settings(info)
        results = evaluate_model(store, info, now=now)
        derived = derive_incidents(
            results, consecutive=int(cfg["consecutive"]), resolve_after=int(cfg["resolve_after"])
        )
        events = reconcile(store, info, derived, notifiers)
        out[info.name] = {"windows": len(results), "events": events}
    return out


class Scheduler:
    """Evaluates every model every ``every`` seconds in a daemon thread.

    One lock serialises scheduled and on-demand passes, so they never evaluate the same
    windows at the same time. An error in one pass is logged and the schedule goes on.
    """

    def __init__(self, store: Store, every: float, notifiers: Sequence[Any] = ()) -> None:
        self.store = store
        self.every = every
        self.notifiers = list(notifiers)
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def run_once(self, model: str | None = None, now: float | None = None) -> dict[str, Any]:
        with self.lock:
            return evaluate(self.store, model, notifiers=self.notifiers, now=now)

    def start(self) -> None:
        if self.every <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="tripwire-evaluate", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.run_once()
                self.last_error = None
            except Exception as exc:  # keep the schedule alive; the error is visible in logs
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("scheduled evaluation failed")
