"""``tripwire.Monitor``: log predictions and feedback from a serving process.

``log`` and ``feedback`` only append to an in-memory queue and return at once; a daemon
thread sends batches to the service (or straight into the database). When the service is
unreachable, batches go to a spool file and are re-sent later; ingestion is idempotent by id,
so a batch sent twice is counted once. Nothing here raises into the caller's serving path.

Examples
--------
>>> import tempfile, pathlib
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> mon = Monitor(f"sqlite:///{tmp / 'tw.db'}", model="churn", task="classification",
...               spool_dir=tmp / "spool")
>>> pid = mon.log({"age": 41, "plan": "pro"}, prediction=1, probabilities={"0": 0.2, "1": 0.8})
>>> mon.feedback(pid, label=1)
>>> mon.flush()
True
>>> mon.stats["sent"], mon.stats["spooled"]
(2, 0)
>>> mon.close()
"""

from __future__ import annotations

import atexit
import collections
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger("tripwire.monitor.client")

KINDS = ("predictions", "feedback")


class _Refused(Exception):
    """The service refused a batch (4xx): re-sending it would fail again."""


class Monitor:
    """Send predictions and delayed labels of one model to the monitor.

    Parameters
    ----------
    url
        ``http://host:port`` of ``tripwire serve``, or a database URL (``sqlite:///...``,
        ``postgresql://...``) to write into the store directly.
    model
        The model's name.
    token
        Bearer token for HTTP (default: the ``TRIPWIRE_TOKEN`` environment variable).
    task
        ``classification`` or ``regression``: registers the model if it is not yet.
    batch_size, flush_interval
        A batch is sent when this many records wait, or every ``flush_interval`` seconds.
    spool_dir
        Where unsent batches wait while the service is down (default ``.tripwire-spool``).
    retry_interval
        Seconds between attempts to re-send the spool.
    """

    def __init__(
        self,
        url: str,
        model: str,
        *,
        token: str | None = None,
        task: str | None = None,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        spool_dir: str | os.PathLike[str] | None = None,
        retry_interval: float = 5.0,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.model = model
        self.token = token if token is not None else os.environ.get("TRIPWIRE_TOKEN")
        self.task = task
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.spool_dir = Path(spool_dir if spool_dir is not None else ".tripwire-spool")
        self.retry_interval = retry_interval
        self.timeout = timeout
        self.stats = {"sent": 0, "spooled": 0, "resent": 0, "refused": 0, "duplicates": 0}
        self._queues: dict[str, collections.deque[dict[str, Any]]] = {
            k: collections.deque() for k in KINDS
        }
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._transport: Any = None
        self._registered = task is None
        self._last_retry = 0.0
        self._thread = threading.Thread(target=self._run, name="tripwire-monitor", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # -- the caller's side: never blocks, never raises ------------------------------------
    def log(
        self,
        features: Mapping[str, Any],
        prediction: Any,
        *,
        id: str | None = None,
        probabilities: Mapping[str, float] | None = None,
        latency_ms: float | None = None,
        timestamp: float | str | None = None,
        model_version: str | None = None,
    ) -> str:
        """Queue one prediction; returns its id (generated when not given) for feedback."""
        rid = id if id is not None else uuid.uuid4().hex
        try:
            rec: dict[str, Any] = {
                "id": rid,
                "timestamp": time.time() if timestamp is None else timestamp,
                "features": {str(k): _plain(v) for k, v in features.items()},
                "prediction": _plain(prediction),
            }
            if probabilities is not None:
                rec["probabilities"] = {str(k): float(v) for k, v in probabilities.items()}
            if latency_ms is not None:
                rec["latency_ms"] = float(latency_ms)
            if model_version is not None:
                rec["model_version"] = str(model_version)
            self._put("predictions", rec)
        except Exception:  # the serving path must go on whatever we were given
            log.exception("tripwire.Monitor.log: could not queue a prediction")
        return rid

    def feedback(self, id: str, label: Any, *, timestamp: float | str | None = None) -> None:
        """Queue the true label of a logged prediction (it may arrive days later)."""
        try:
            rec = {"id": id, "label": _plain(label)}
            if timestamp is not None:
                rec["timestamp"] = timestamp
            self._put("feedback", rec)
        except Exception:
            log.exception("tripwire.Monitor.feedback: could not queue a label")

    def _put(self, kind: str, rec: dict[str, Any]) -> None:
        q = self._queues[kind]
        q.append(rec)
        self._idle.clear()
        if len(q) >= self.batch_size:
            self._wake.set()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued has been sent or spooled; True when done in time."""
        self._idle.clear()
        self._wake.set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._idle.wait(0.05) and not any(self._queues.values()):
                return True
            self._wake.set()
        return False

    def close(self, timeout: float = 30.0) -> None:
        """Flush, then stop the background thread. Called at interpreter exit too."""
        if self._stop.is_set():
            return
        self.flush(timeout)
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)
        atexit.unregister(self.close)

    @property
    def spool_path(self) -> Path:
        return self.spool_dir / f"{_safe(self.model)}-{os.getpid()}.jsonl"

    def pending_spool(self) -> int:
        """Batches waiting in this model's spool files."""
        n = 0
        for path in self._spool_files():
            with open(path, encoding="utf-8") as fh:
                n += sum(1 for line in fh if line.strip())
        return n

    # -- the background thread ------------------------------------------------------------
    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self._cycle()
            except Exception:  # pragma: no cover - defensive: the thread must survive
                log.exception("tripwire.Monitor: background send failed")
            if not any(self._queues.values()):
                self._idle.set()
            if self._stop.is_set() and not any(self._queues.values()):
                return

    def _cycle(self) -> None:
        if time.monotonic() - self._last_retry >= self.retry_interval and self._spool_files():
            self._last_retry = time.monotonic()
            self._resend()
        for kind in KINDS:
            q = self._queues[kind]
            while q:
                batch = [q.popleft() for _ in range(min(len(q), self.batch_size))]
                self._deliver(kind, batch)

    def _deliver(self, kind: str, batch: list[dict[str, Any]]) -> bool:
        try:
            accepted, dupes = self._send(kind, batch)
            self.stats["sent"] += accepted
            self.stats["duplicates"] += dupes
            return True
        except _Refused as exc:
            if len(batch) > 1:
                # Batches are all or nothing: split to keep the good records of a bad batch.
                half = len(batch) // 2
                return self._deliver(kind, batch[:half]) & self._deliver(kind, batch[half:])
            self.stats["refused"] += len(batch)
            log.error("tripwire.Monitor: the service refused %d %s: %s", len(batch), kind, exc)
            self._append(self.spool_dir / f"{_safe(self.model)}-refused.jsonl", kind, batch)
            return True
        except Exception as exc:
            self.stats["spooled"] += len(batch)
            log.warning("tripwire.Monitor: %s not delivered (%s); spooled", kind, exc)
            self._append(self.spool_path, kind, batch)
            return False

    def _append(self, path: Path, kind: str, batch: list[dict[str, Any]]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"kind": kind, "records": batch}, default=str) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def _spool_files(self) -> list[Path]:
        if not self.spool_dir.is_dir():
            return []
        out = []
        for path in self.spool_dir.glob(f"{_safe(self.model)}-*.jsonl"):
            pid = path.stem.rsplit("-", 1)[-1]
            # Our own file, or one left by a process that is gone; never a live process's.
            if pid.isdigit() and (int(pid) == os.getpid() or not _alive(int(pid))):
                out.append(path)
        return sorted(out)

    def _resend(self) -> None:
        for path in self._spool_files():
            lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
            keep = []
            for i, line in enumerate(lines):
                entry = json.loads(line)
                try:
                    accepted, dupes = self._send(entry["kind"], entry["records"])
                    self.stats["resent"] += accepted
                    self.stats["duplicates"] += dupes
                except _Refused as exc:
                    log.error("tripwire.Monitor: spooled batch refused: %s", exc)
                    self._append(
                        self.spool_dir / f"{_safe(self.model)}-refused.jsonl",
                        entry["kind"],
                        entry["records"],
                    )
                except Exception:
                    keep = lines[i:]  # still down: keep the rest in order
                    break
            tmp = path.with_suffix(".tmp")
            tmp.write_text("".join(ln + "\n" for ln in keep), encoding="utf-8")
            os.replace(tmp, path)
            if not keep:
                path.unlink(missing_ok=True)
            else:
                return

    # -- transports -----------------------------------------------------------------------
    def _send(self, kind: str, batch: list[dict[str, Any]]) -> tuple[int, int]:
        if self._transport is None:
            self._transport = (
                _Http(self.url, self.token, self.timeout)
                if self.url.startswith(("http://", "https://"))
                else _Direct(self.url)
            )
        if not self._registered:
            self._transport.register(self.model, self.task)
            self._registered = True
        return self._transport.send(self.model, kind, batch)


class _Http:
    def __init__(self, url: str, token: str | None, timeout: float) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)

    def _check(self, resp: Any) -> Any:
        if 400 <= resp.status_code < 500 and resp.status_code not in (408, 429):
            raise _Refused(f"{resp.status_code}: {resp.text[:300]}")
        resp.raise_for_status()
        return resp.json()

    def register(self, model: str, task: str | None) -> None:
        self._check(self.client.post("/v1/models", json={"name": model, "task": task}))

    def send(self, model: str, kind: str, batch: list[dict[str, Any]]) -> tuple[int, int]:
        out = self._check(self.client.post(f"/v1/models/{model}/{kind}", json={"records": batch}))
        return int(out["accepted"]), int(out["duplicates"])


class _Direct:
    def __init__(self, url: str) -> None:
        from tripwire.monitor.store import Store

        self.store = Store(url).migrate()

    def register(self, model: str, task: str | None) -> None:
        from tripwire.errors import TripwireError

        try:
            self.store.create_model(model, task=str(task))
        except TripwireError as exc:
            raise _Refused(str(exc)) from exc

    def send(self, model: str, kind: str, batch: list[dict[str, Any]]) -> tuple[int, int]:
        from tripwire.errors import TripwireError

        add = self.store.add_predictions if kind == "predictions" else self.store.add_feedback
        try:
            return add(model, batch)
        except TripwireError as exc:
            raise _Refused(str(exc)) from exc


def _plain(value: Any) -> Any:
    """numpy scalars to Python scalars and NaN to None, so the record serialises."""
    item = getattr(value, "item", None)
    if callable(item):
        value = item()
    if isinstance(value, float) and value != value:  # NaN means missing; JSON has no NaN
        return None
    return value


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._" else "_" for c in name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
