"""Prometheus exposition: ingest counters and the latest window metrics of every model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from tripwire.monitor.store import Store


class IngestMetrics:
    """Counters owned by one service process (a registry of its own, not the global one)."""

    def __init__(self, store: Store) -> None:
        import prometheus_client

        # The *_created series double every counter and carry no monitoring value here.
        prometheus_client.disable_created_metrics()
        self.registry = CollectorRegistry()
        labels = ["model"]
        self.predictions = Counter(
            "tripwire_predictions_ingested",
            "Predictions stored (new ids).",
            labels,
            registry=self.registry,
        )
        self.feedback = Counter(
            "tripwire_feedback_ingested",
            "Feedback labels stored (new ids).",
            labels,
            registry=self.registry,
        )
        self.duplicates = Counter(
            "tripwire_ingest_duplicates",
            "Records skipped because their id was already stored.",
            ["model", "kind"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "tripwire_ingest_rejected_batches",
            "Batches refused with a 4xx (nothing of them stored).",
            ["kind"],
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "tripwire_ingest_batch_seconds",
            "Time to validate and commit one ingest batch.",
            ["kind"],
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.served = Counter(
            "tripwire_served_predictions",
            "Predictions answered by POST /v1/models/{name}/predict, by version and role.",
            ["model", "version", "role"],
            registry=self.registry,
        )
        self.serving_errors = Counter(
            "tripwire_serving_errors",
            "Predict requests answered with an error, by kind (client or unavailable).",
            ["model", "kind"],
            registry=self.registry,
        )
        self.registry.register(_WindowCollector(store))


class _WindowCollector:
    """Reads the newest complete window of each model at scrape time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[Any]:
        specs = {
            "predictions": (
                "tripwire_window_predictions",
                "Predictions in the latest complete window.",
            ),
            "feedback": (
                "tripwire_window_feedback",
                "Labelled predictions in the latest complete window.",
            ),
            "drift_share": (
                "tripwire_window_drift_share",
                "Share of features drifted in the latest complete window.",
            ),
            "drift": (
                "tripwire_window_drift",
                "1 when the latest complete window's inputs drifted.",
            ),
            "estimated": (
                "tripwire_window_estimated_performance",
                "Estimated performance (before labels) of the latest complete window.",
            ),
            "realized": (
                "tripwire_window_realized_performance",
                "Realized performance (labelled rows) of the latest complete window.",
            ),
            "latency": (
                "tripwire_window_latency_p99_seconds",
                "p99 latency in the latest complete window.",
            ),
            "open": ("tripwire_open_incidents", "Open incidents."),
        }
        fams = {
            k: GaugeMetricFamily(
                name,
                doc,
                labels=["model", "metric"] if k in ("estimated", "realized") else ["model"],
            )
            for k, (name, doc) in specs.items()
        }
        open_by_model: dict[str, int] = {}
        for inc in self.store.incidents(status="open"):
            open_by_model[inc["model"]] = open_by_model.get(inc["model"], 0) + 1
        for model in self.store.models():
            fams["open"].add_metric([model.name], open_by_model.get(model.name, 0))
            latest = [r for r in self.store.windows(model.id, limit=3) if r["complete"]]
            if not latest:
                continue
            r = latest[-1]
            fams["predictions"].add_metric([model.name], r["n_predictions"])
            fams["feedback"].add_metric([model.name], r["n_feedback"])
            fams["drift_share"].add_metric([model.name], r["drift"].get("share", 0.0))
            fams["drift"].add_metric([model.name], float(bool(r["drift"].get("flag"))))
            perf = r["performance"]
            for key in ("estimated", "realized"):
                if perf.get(key):
                    fams[key].add_metric([model.name, perf["metric"]], perf[key]["value"])
            if r["latency"].get("p99") is not None:
                fams["latency"].add_metric([model.name], r["latency"]["p99"] / 1000.0)
        yield from fams.values()
