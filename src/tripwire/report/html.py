"""A self-contained HTML report: one section per failure mode, charts that work offline.

Chart specs from findings (see :mod:`tripwire.charts`) become plotly.js figures; plotly.js is
inlined once so the file opens without a network. Without the ``html`` extra the report still
renders, with a note in place of each chart.
"""

from __future__ import annotations

import html
import json
from functools import lru_cache
from importlib import resources
from typing import Any

from tripwire.findings import MODES, CheckRun, Finding, Report

COLORS = {
    "critical": "#c62828",
    "warning": "#ef8f00",
    "info": "#1e6fb8",
    "ok": "#2e7d32",
    "not_checked": "#8a8f98",
}
PALETTE = ["#1e6fb8", "#ef8f00", "#2e7d32", "#c62828", "#6a3d9a", "#8c564b", "#17becf"]


@lru_cache(maxsize=1)
def _plotly_js() -> str | None:
    try:
        return (
            resources.files("plotly")
            .joinpath("package_data/plotly.min.js")
            .read_text(encoding="utf-8")
        )
    except (ModuleNotFoundError, FileNotFoundError):
        return None


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            return f"{value:.3g}"
        return f"{value:.4g}"
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "—"
    return str(value)


# ---------------------------------------------------------------------------------------
# Charts: spec -> plotly figure JSON
# ---------------------------------------------------------------------------------------
def figure(spec: dict[str, Any]) -> dict[str, Any]:
    """Translate a chart spec into a plotly figure dict (data + layout)."""
    kind = spec.get("type")
    data: list[dict[str, Any]] = []
    layout: dict[str, Any] = {
        "title": {"text": spec.get("title", ""), "font": {"size": 14}},
        "margin": {"l": 60, "r": 20, "t": 40, "b": 60},
        "height": 320,
        "xaxis": {"title": {"text": spec.get("x_label", "")}, "automargin": True},
        "yaxis": {"title": {"text": spec.get("y_label", "")}, "automargin": True},
        "legend": {"orientation": "h", "y": -0.25},
        "template": None,
        "paper_bgcolor": "white",
        "plot_bgcolor": "#fafafa",
    }
    series = spec.get("series", [])
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        if kind == "bar":
            t: dict[str, Any] = {"type": "bar", "name": s["name"], "marker": {"color": color}}
            if spec.get("horizontal"):
                t.update(x=s["values"], y=spec["x"], orientation="h")
            else:
                t.update(x=spec["x"], y=s["values"])
            if "low" in s:
                t["error_y" if not spec.get("horizontal") else "error_x"] = {
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        h - v if h is not None and v is not None else 0
                        for v, h in zip(s["values"], s["high"])
                    ],
                    "arrayminus": [
                        v - lo if lo is not None and v is not None else 0
                        for v, lo in zip(s["values"], s["low"])
                    ],
                }
            data.append(t)
        elif kind == "histogram":
            edges = spec["edges"]
            centers = [
                (a + b) / 2 if isinstance(a, (int, float)) else a
                for a, b in zip(edges[:-1], edges[1:])
            ]
            widths = [
                (b - a) if isinstance(a, (int, float)) else None
                for a, b in zip(edges[:-1], edges[1:])
            ]
            t = {
                "type": "bar",
                "name": s["name"],
                "x": centers,
                "y": s["values"],
                "opacity": 0.6,
                "marker": {"color": color},
            }
            if all(w is not None for w in widths):
                t["width"] = widths
            data.append(t)
            layout["barmode"] = "overlay"
        elif kind == "line":
            t = {
                "type": "scatter",
                "mode": "lines+markers",
                "name": s["name"],
                "x": spec["x"],
                "y": s["values"],
                "line": {"color": color},
            }
            if "low" in s:
                data.append(
                    {
                        "type": "scatter",
                        "x": spec["x"] + spec["x"][::-1],
                        "y": s["high"] + s["low"][::-1],
                        "fill": "toself",
                        "fillcolor": color,
                        "opacity": 0.15,
                        "line": {"width": 0},
                        "showlegend": False,
                        "hoverinfo": "skip",
                        "name": s["name"] + " interval",
                    }
                )
            data.append(t)
    if kind == "scatter":
        data.append(
            {
                "type": "scatter",
                "mode": "markers+lines" if spec.get("diagonal") else "markers",
                "x": spec["x"],
                "y": spec["y"],
                "text": spec.get("labels"),
                "name": spec.get("title", ""),
                "marker": {"color": PALETTE[0]},
            }
        )
        if spec.get("diagonal"):
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": [0, 1],
                    "y": [0, 1],
                    "name": "perfect",
                    "line": {"dash": "dash", "color": "#888"},
                }
            )
    if kind == "heatmap":
        data.append(
            {
                "type": "heatmap",
                "z": spec["z"],
                "x": spec["x"],
                "y": spec["y"],
                "colorscale": "Blues",
                "texttemplate": "%{z:.3g}",
            }
        )
        layout["yaxis"]["autorange"] = "reversed"
    shapes = []
    for m in spec.get("markers", []):
        if m.get("axis") == "x":
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": m["value"],
                    "x1": m["value"],
                    "y0": 0,
                    "y1": 1,
                    "line": {"dash": "dot", "color": "#c62828"},
                }
            )
        else:
            shapes.append(
                {
                    "type": "line",
                    "xref": "paper",
                    "yref": "y",
                    "x0": 0,
                    "x1": 1,
                    "y0": m["value"],
                    "y1": m["value"],
                    "line": {"dash": "dot", "color": "#c62828"},
                }
            )
    if shapes:
        layout["shapes"] = shapes
    return {"data": data, "layout": layout}


# ---------------------------------------------------------------------------------------
# Pieces
# ---------------------------------------------------------------------------------------
def _sparkline(counts: list[int], width: int = 120, height: int = 28) -> str:
    if not counts or max(counts) == 0:
        return ""
    top = max(counts)
    w = width / len(counts)
    bars = "".join(
        f'<rect x="{i * w:.1f}" y="{height - height * c / top:.1f}" width="{max(w - 1, 1):.1f}" height="{height * c / top:.1f}"/>'
        for i, c in enumerate(counts)
    )
    return f'<svg class="spark" width="{width}" height="{height}" role="img" aria-label="distribution">{bars}</svg>'


def _profile_table(report: Report) -> str:
    profile = report.profile.get("train") or report.profile.get("reference")
    if not profile:
        return ""
    rows = []
    for col, p in profile["columns"].items():
        if "min" in p:
            rng = f"{_fmt(p['min'])} … {_fmt(p['max'])}"
        elif "top" in p:
            rng = ", ".join(f"{_e(t['value'])} ({t['count']})" for t in p["top"][:3])
        else:
            rng = ""
        spark = (
            _sparkline(p["histogram"]["counts"])
            if "histogram" in p
            else (_sparkline([t["count"] for t in p.get("top", [])]) if p.get("top") else "")
        )
        rows.append(
            f"<tr><td><b>{_e(col)}</b>{' <span class=role>' + _e(p['role']) + '</span>' if p.get('role') else ''}</td>"
            f"<td>{_e(p['kind'])}</td><td class=num>{p['missing']:.1%}</td><td class=num>{p['distinct']:,}</td>"
            f"<td>{rng}</td><td>{spark}</td></tr>"
        )
    return (
        f"<h3>Column profile (train, {profile['rows']:,} rows)</h3>"
        "<table class='profile'><thead><tr><th>column</th><th>kind</th><th>missing</th><th>distinct</th>"
        "<th>range / top values</th><th>distribution</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _evidence(ev: dict[str, Any]) -> str:
    items = []
    for key, value in ev.items():
        if key == "charts":
            continue
        items.append(f"<tr><th>{_e(key)}</th><td>{_value(value)}</td></tr>")
    return "<table class='evidence'>" + "".join(items) + "</table>" if items else ""


def _value(value: Any, depth: int = 0) -> str:
    if isinstance(value, dict):
        if depth > 1:
            return f"<code>{_e(json.dumps(value)[:300])}</code>"
        if all(not isinstance(v, (dict, list)) for v in value.values()):
            return ", ".join(f"{_e(k)}: {_e(_fmt(v))}" for k, v in list(value.items())[:30])
        return (
            "<table class='sub'>"
            + "".join(
                f"<tr><th>{_e(k)}</th><td>{_value(v, depth + 1)}</td></tr>"
                for k, v in list(value.items())[:30]
            )
            + "</table>"
        )
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            keys = list(dict.fromkeys(k for v in value[:15] for k in v))
            head = "".join(f"<th>{_e(k)}</th>" for k in keys)
            body = "".join(
                "<tr>" + "".join(f"<td>{_value(v.get(k), depth + 1)}</td>" for k in keys) + "</tr>"
                for v in value[:15]
            )
            more = (
                f"<tr><td colspan={len(keys)}>… {len(value) - 15} more</td></tr>"
                if len(value) > 15
                else ""
            )
            return f"<table class='sub'><thead><tr>{head}</tr></thead><tbody>{body}{more}</tbody></table>"
        shown = ", ".join(
            _e(_fmt(v)) if not isinstance(v, (list, dict)) else _e(json.dumps(v)[:80])
            for v in value[:20]
        )
        return shown + (f", … ({len(value)} in all)" if len(value) > 20 else "")
    if isinstance(value, str) and "\n" in value:
        return f"<pre>{_e(value)}</pre>"
    return _e(_fmt(value))


def _rows(f: Finding) -> str:
    parts = []
    for side, rows in f.rows.items():
        if rows:
            shown = ", ".join(str(r) for r in list(rows)[:20])
            parts.append(
                f"{_e(side)}: {len(rows):,} row(s) — {shown}{' …' if len(rows) > 20 else ''}"
            )
    return (
        "<div class='rows'>Rows (0-based positions) · " + " · ".join(parts) + "</div>"
        if parts
        else ""
    )


def _finding(f: Finding, chart_ids: list[tuple[str, dict[str, Any]]]) -> str:
    charts_html = ""
    for spec in f.evidence.get("charts", []) or []:
        cid = f"chart{len(chart_ids)}"
        chart_ids.append((cid, figure(spec)))
        charts_html += f"<div class='chart' id='{cid}'></div>"
    sev = f.sev.value
    return (
        f"<details class='finding {sev}' {'open' if sev != 'info' else ''}>"
        f"<summary><span class='badge' style='background:{COLORS[sev]}'>{sev}</span> {_e(f.title)}"
        f" <span class='check'>{_e(f.check)}</span></summary>"
        f"<p>{_e(f.detail)}</p>"
        + (f"<p class='action'><b>Action:</b> {_e(f.action)}</p>" if f.action else "")
        + (f"<p class='cols'>Columns: {_e(', '.join(f.columns))}</p>" if f.columns else "")
        + charts_html
        + _evidence(dict(f.evidence))
        + _rows(f)
        + "</details>"
    )


def _checks(runs: list[CheckRun]) -> str:
    if not runs:
        return ""
    body = "".join(
        f"<tr class='{r.status}'><td>{_e(r.check)}</td><td>{_e(r.status)}</td><td>{_e(r.reason)}</td>"
        f"<td class=num>{r.seconds:.2f}s</td><td class=num>{r.findings}</td></tr>"
        for r in runs
    )
    return (
        "<details class='checks'><summary>Checks in this section</summary><table><thead><tr><th>check</th><th>status</th>"
        "<th>reason</th><th>time</th><th>findings</th></tr></thead><tbody>"
        + body
        + "</tbody></table></details>"
    )


CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#f4f5f7}
header{background:#1b2430;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header .meta{opacity:.8;font-size:13px}main{max-width:1180px;margin:0 auto;padding:16px 24px}
nav{display:flex;flex-wrap:wrap;gap:8px;margin:14px 0}nav a{padding:6px 10px;border-radius:6px;background:#fff;
text-decoration:none;color:#222;border-left:5px solid #999;box-shadow:0 1px 2px #0001}
section{background:#fff;border-radius:8px;padding:14px 20px;margin:14px 0;box-shadow:0 1px 3px #0002}
section h2{margin:4px 0}section .q{color:#555;margin:0 0 10px}
.badge{color:#fff;border-radius:4px;padding:1px 7px;font-size:12px;text-transform:uppercase}
details.finding{border:1px solid #e3e3e3;border-radius:6px;margin:8px 0;padding:6px 10px}
details.finding summary{cursor:pointer;font-weight:600}.check{color:#888;font-weight:400;font-size:12px}
.action{background:#f1f7ee;padding:6px 8px;border-radius:4px}table{border-collapse:collapse;margin:6px 0}
td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left;vertical-align:top}.num{text-align:right}
table.evidence th{color:#555;font-weight:500;white-space:nowrap}table.sub{font-size:12px}
.rows{font-size:12px;color:#555;margin-top:4px}.chart{width:100%;min-height:320px}
.spark rect{fill:#1e6fb8}.role{background:#eef;border-radius:3px;padding:0 4px;font-size:11px}
tr.skipped td{color:#888}tr.error td{color:#c62828}.empty{color:#2e7d32}.counts span{margin-right:12px}
pre{background:#f6f8fa;padding:6px;border-radius:4px;white-space:pre-wrap}
"""


def render_html(report: Report, title: str | None = None) -> str:
    """Render the whole report as one HTML page (no external resources)."""
    d = report.to_dict()
    inputs = d["inputs"]
    counts = d["summary"]["counts"]
    title = title or f"tripwire {report.kind} report"
    chart_ids: list[tuple[str, dict[str, Any]]] = []
    nav, sections = [], []
    for mode in MODES:
        findings = report.by_mode(mode.key)
        status = report.mode_status(mode.key)
        runs = [c for c in report.checks if c.mode == mode.key]
        if report.kind != "audit" and not runs and not findings:
            continue  # e.g. a drift report: other failure modes were not part of the command
        label = len(findings) or status.replace("_", " ")
        nav.append(
            f"<a href='#mode-{mode.key}' style='border-left-color:{COLORS[status]}'>{mode.number} {_e(mode.title)}"
            f" <span class='badge' style='background:{COLORS[status]}'>{label}</span></a>"
        )
        body = ""
        if mode.key == "data":
            body += _profile_table(report)
        if findings:
            body += "".join(_finding(f, chart_ids) for f in findings)
        else:
            ran = [r for r in runs if r.status == "ran"]
            if ran:
                body += "<p class='empty'>✔ Nothing found by the checks that ran.</p>"
            else:
                reasons = sorted({r.reason for r in runs if r.reason}) or [
                    "no check of this mode applies to these inputs"
                ]
                body += "<p class='skip'>Not checked: " + _e("; ".join(reasons)) + ".</p>"
        body += _checks(runs)
        sections.append(
            f"<section id='mode-{mode.key}' data-mode='{mode.key}'><h2>{mode.number} · {_e(mode.title)} "
            f"<span class='badge' style='background:{COLORS[status]}'>{status.replace('_', ' ')}</span></h2>"
            f"<p class='q'>{_e(mode.question)}</p>{body}</section>"
        )
    if not sections:
        sections.append(
            "<section id='mode-none'><p class='skip'>Not checked: no check ran for this "
            f"{_e(report.kind)} report, so it holds no finding and no evidence.</p></section>"
        )
    sources = inputs.get("sources", {})
    rows = inputs.get("rows", {})
    meta = " · ".join(
        f"{_e(side)}: {_e(src)} ({rows.get(side, 0):,} rows)" for side, src in sources.items()
    )
    task = inputs.get("task")
    target = inputs.get("roles", {}).get("target")
    js = _plotly_js()
    if chart_ids and js is None:
        charts_script = (
            "<script>document.querySelectorAll('.chart').forEach(function(e){e.textContent="
            "'Charts need plotly: pip install \\'tripwire[html]\\''; e.style.minHeight='0'});</script>"
        )
    elif chart_ids:
        payload = json.dumps({cid: fig for cid, fig in chart_ids}).replace("</", "<\\/")
        charts_script = (
            f"<script>{js}</script><script type='application/json' id='tw-charts'>{payload}</script>"
            "<script>(function(){var f=JSON.parse(document.getElementById('tw-charts').textContent);"
            "for(var id in f){try{Plotly.newPlot(id,f[id].data,f[id].layout,{displaylogo:false,responsive:true});"
            "document.getElementById(id).setAttribute('data-rendered','1');}catch(e){document.getElementById(id).textContent='chart error: '+e;}}})();</script>"
        )
    else:
        charts_script = ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'><title>{_e(title)}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<header><h1>{_e(title)}</h1><div class='meta'>{meta}"
        + (f" · task: {_e(task)} · target: {_e(target)}" if task else "")
        + f" · tripwire {_e(report.version)} · {report.seconds:.1f}s</div>"
        f"<div class='counts'><span>{counts['critical']} critical</span><span>{counts['warning']} warning</span>"
        f"<span>{counts['info']} info</span></div></header><main><nav>{''.join(nav)}</nav>{''.join(sections)}</main>"
        f"{charts_script}</body></html>"
    )
