"""The kernel-free sweep chart: data shaping and self-contained HTML."""

from __future__ import annotations

import re

import pytest

from dropout_utils import charts

pytest.importorskip("altair")


@pytest.fixture
def payload() -> dict:
    runs = []
    for p1 in (0.0, 0.5):
        for p2 in (0.0, 0.5):
            runs.append(
                {
                    "p1": p1,
                    "p2": p2,
                    "seed": 0,
                    "train_loss": [1.0, 0.5],
                    "train_acc": [0.6, 0.7],
                    "test_acc": [0.65, 0.7 - p1 / 10],
                    "final_clean_train_acc": 0.75,
                }
            )
    return {"settings": {"grid": [0.0, 0.5]}, "runs": runs}


def test_curve_records_are_long_form(payload):
    records = charts.curve_records(payload)
    assert len(records) == 4 * 2 * 3
    first = records[0]
    assert first == {
        "p1": 0.0,
        "p2": 0.0,
        "epoch": 1,
        "metric": "training loss",
        "value": 1.0,
    }


def test_final_records_hold_accuracy_and_gap(payload):
    records = {(r["p1"], r["p2"]): r for r in charts.final_records(payload)}
    assert records[(0.5, 0.0)]["test_acc"] == pytest.approx(0.65)
    assert records[(0.5, 0.0)]["gap"] == pytest.approx(0.75 - 0.65)


def test_the_chart_has_two_sliders_and_two_heatmaps(payload):
    spec = charts.sweep_chart(payload).to_dict()
    params = spec["params"]  # Altair lifts them to the top level
    assert [p["name"] for p in params] == ["p1", "p2"]
    assert all(p["bind"]["input"] == "range" for p in params)
    assert params[0]["bind"]["step"] == 0.5
    assert len(spec["vconcat"][1]["hconcat"]) == 2
    # Accuracy and gap live on different ranges: one colour scale each.
    assert spec["vconcat"][1]["resolve"]["scale"]["color"] == "independent"


def test_the_html_is_self_contained(payload):
    html = charts.chart_html(charts.sweep_chart(payload))
    # A fragment for a page, not a whole document.
    assert not html.lstrip().lower().startswith(("<!doctype", "<html"))
    assert html.lstrip().startswith("<style>")
    assert "vegaEmbed(" in html
    # No script is loaded from anywhere: everything is inline.
    assert not re.search(r"<script[^>]+src=", html)
    assert "cdn.jsdelivr" not in html
    # Module scripts: the bundle's top-level names cannot clash with a page's.
    assert '<script type="text/javascript">' not in html
    assert html.count('<script type="module">') == 2
