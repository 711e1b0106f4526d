from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import tripwire
from tests import realdata
from tests.browser import dump_dom, screenshot
from tripwire import charts
from tripwire.findings import MODE_KEYS, Finding, Report
from tripwire.report.html import figure, render_html


@pytest.fixture(scope="module")
def report():
    df = realdata.german_credit().sample(frac=1, random_state=1).reset_index(drop=True)
    df["age"] = df["age"].astype(object)
    df.loc[[2, 8], "age"] = "unknown"
    return tripwire.audit(
        df.iloc[:700], df.iloc[700:], target="class", checks=["data.", "monitoring.", "lifecycle."]
    )


def test_html_is_self_contained_and_has_every_section(report, tmp_path):
    html = render_html(report)
    for mode in MODE_KEYS:
        assert f"id='mode-{mode}'" in html
    assert "<script src=" not in html and "<link " not in html  # nothing fetched from a network
    assert "Plotly.newPlot" in html


def test_every_chart_kind_translates_to_a_plotly_figure():
    specs = [
        charts.bar(["a", "b"], {"s": [1, 2]}, title="t", errors={"s": ([0.5, 1.5], [1.5, 2.5])}),
        charts.histogram([0, 1, 2], {"ref": [0.5, 0.5], "cur": [0.2, 0.8]}, title="h"),
        charts.line(
            [1, 2, 3],
            {"acc": [0.9, 0.8, 0.7]},
            title="l",
            bands={"acc": ([0.8] * 3, [1.0] * 3)},
            markers=[{"axis": "x", "value": 2}],
        ),
        charts.scatter([0.1, 0.5], [0.2, 0.4], title="s", diagonal=True),
        charts.heatmap([[1, 0], [0, 1]], x=["a", "b"], y=["a", "b"], title="m"),
    ]
    for spec in specs:
        fig = figure(spec)
        assert fig["data"], spec["type"]
        assert fig["layout"]["title"]["text"] == spec["title"]


def test_page_renders_charts_in_headless_chromium(report, tmp_path):
    path = report.save_html(tmp_path / "report.html")
    dom = dump_dom(path.as_uri())
    assert dom, "chromium returned no DOM"
    for mode in MODE_KEYS:
        assert f'id="mode-{mode}"' in dom
    n_charts = len(re.findall(r'<div class="chart[^"]*" id="chart\d+"', dom))
    assert n_charts >= 2
    assert dom.count('data-rendered="1"') == n_charts, "some charts did not render"
    assert "main-svg" in dom  # plotly drew SVG


def test_screenshot_of_the_report_is_not_blank(report, tmp_path):
    png = screenshot((report.save_html(tmp_path / "r.html")).as_uri(), tmp_path / "r.png")
    assert png.exists(), "chromium wrote no screenshot"
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 30_000  # a blank 1280x2400 page compresses to a few KB


def test_escaping_of_user_text():
    r = Report(
        "audit", [Finding("data.x", "data", "warning", "<script>alert(1)</script>", detail="a & b")]
    )
    html = render_html(r)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_renders_without_any_finding():
    html = render_html(Report("drift", []))
    assert "Not checked" in html


def test_big_numbers_and_nan_in_evidence_do_not_break_rendering():
    r = Report(
        "audit",
        [
            Finding(
                "data.x",
                "data",
                "info",
                "t",
                evidence={"a": np.nan, "b": 1e12, "c": [{"k": 1}] * 30},
            )
        ],
    )
    assert "30 in all" in render_html(r) or "15 more" in render_html(r)
    assert isinstance(pd.Series, type)
