"""Chart specs: plain data that the HTML report draws.

Checks describe *what* to draw (bars, lines, a heatmap) as JSON-ready dicts and put them in
``evidence["charts"]``; only the HTML renderer knows how to draw. This keeps the statistics
free of plotting code and keeps the JSON report self-describing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def _series(series: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    return [{"name": str(name), "values": list(values)} for name, values in series.items()]


def bar(
    x: Sequence[Any],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    x_label: str = "",
    y_label: str = "",
    horizontal: bool = False,
    errors: Mapping[str, tuple[Sequence[float], Sequence[float]]] | None = None,
) -> dict[str, Any]:
    """Grouped bars, one group per ``x`` entry and one bar per series.

    ``errors`` maps a series name to (low, high) interval bounds drawn as error bars.

    Examples
    --------
    >>> bar(["a", "b"], {"count": [3, 4]}, title="Classes")["type"]
    'bar'
    """
    spec: dict[str, Any] = {
        "type": "bar",
        "title": title,
        "x": [str(v) for v in x],
        "series": _series(series),
        "x_label": x_label,
        "y_label": y_label,
        "horizontal": horizontal,
    }
    if errors:
        for s in spec["series"]:
            if s["name"] in errors:
                lo, hi = errors[s["name"]]
                s["low"], s["high"] = list(lo), list(hi)
    return spec


def histogram(
    edges: Sequence[float],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    x_label: str = "",
    y_label: str = "share of rows",
) -> dict[str, Any]:
    """Pre-binned histograms on shared bin ``edges`` (len(values) == len(edges) - 1)."""
    return {
        "type": "histogram",
        "title": title,
        "edges": list(edges),
        "series": _series(series),
        "x_label": x_label,
        "y_label": y_label,
    }


def line(
    x: Sequence[Any],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    x_label: str = "",
    y_label: str = "",
    bands: Mapping[str, tuple[Sequence[float], Sequence[float]]] | None = None,
    markers: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Lines over ``x``; ``bands`` add shaded intervals; ``markers`` add vertical/horizontal
    reference lines: ``{"axis": "x"|"y", "value": v, "label": "..."}``."""
    spec: dict[str, Any] = {
        "type": "line",
        "title": title,
        "x": list(x),
        "series": _series(series),
        "x_label": x_label,
        "y_label": y_label,
        "markers": [dict(m) for m in markers],
    }
    if bands:
        for s in spec["series"]:
            if s["name"] in bands:
                lo, hi = bands[s["name"]]
                s["low"], s["high"] = list(lo), list(hi)
    return spec


def scatter(
    x: Sequence[float],
    y: Sequence[float],
    *,
    title: str,
    x_label: str = "",
    y_label: str = "",
    labels: Sequence[str] | None = None,
    diagonal: bool = False,
) -> dict[str, Any]:
    """Points; ``diagonal`` draws the y = x line (e.g. for reliability diagrams)."""
    return {
        "type": "scatter",
        "title": title,
        "x": list(x),
        "y": list(y),
        "labels": list(labels) if labels is not None else None,
        "x_label": x_label,
        "y_label": y_label,
        "diagonal": diagonal,
    }


def heatmap(
    z: Sequence[Sequence[float]],
    *,
    x: Sequence[Any],
    y: Sequence[Any],
    title: str,
    x_label: str = "",
    y_label: str = "",
) -> dict[str, Any]:
    """A matrix, e.g. a confusion or noise matrix (rows ``y``, columns ``x``)."""
    return {
        "type": "heatmap",
        "title": title,
        "z": [list(r) for r in z],
        "x": [str(v) for v in x],
        "y": [str(v) for v in y],
        "x_label": x_label,
        "y_label": y_label,
    }
