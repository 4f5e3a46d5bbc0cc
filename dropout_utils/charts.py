"""Kernel-free interactive charts of the p1/p2 sweep (Altair / Vega-Lite).

The sliders are Vega-Lite parameters: moving one filters the precomputed
sweep in the browser, so the chart works in a static page with no kernel.
"""

from __future__ import annotations

import re
from typing import Any

METRICS = {
    "train_loss": "training loss",
    "train_acc": "training accuracy (dropout on)",
    "test_acc": "test accuracy",
}


def curve_records(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """One record per (run, epoch, metric): the long form Vega-Lite filters."""
    records = []
    for run in payload["runs"]:
        for name, label in METRICS.items():
            for epoch, value in enumerate(run[name], start=1):
                records.append(
                    {
                        "p1": run["p1"],
                        "p2": run["p2"],
                        "epoch": epoch,
                        "metric": label,
                        "value": round(value, 4),
                    }
                )
    return records


def final_records(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """One record per run: final test accuracy and train-test gap."""
    return [
        {
            "p1": run["p1"],
            "p2": run["p2"],
            "test_acc": round(run["test_acc"][-1], 4),
            "gap": round(run["final_clean_train_acc"] - run["test_acc"][-1], 4),
        }
        for run in payload["runs"]
    ]


def sweep_chart(payload: dict[str, Any], p1: float = 0.2, p2: float = 0.5):
    """Curves for the (p1, p2) chosen with two sliders, above two heatmaps."""
    import altair as alt

    grid = payload["settings"]["grid"]
    step = round(grid[1] - grid[0], 6)
    p1_param = alt.param(
        name="p1",
        value=p1,
        bind=alt.binding_range(min=grid[0], max=grid[-1], step=step, name="p1 "),
    )
    p2_param = alt.param(
        name="p2",
        value=p2,
        bind=alt.binding_range(min=grid[0], max=grid[-1], step=step, name="p2 "),
    )
    # Slider values are floats such as 0.30000000000000004: compare loosely.
    chosen = "abs(datum.p1 - p1) < 0.001 && abs(datum.p2 - p2) < 0.001"

    curves = (
        alt.Chart(alt.Data(values=curve_records(payload)))
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "epoch:Q",
                title="epoch",
                scale=alt.Scale(domainMin=1),
                axis=alt.Axis(tickMinStep=1),
            ),
            y=alt.Y("value:Q", title=None, scale=alt.Scale(domain=[0, 1.2])),
            color=alt.Color(
                "metric:N",
                title=None,
                scale=alt.Scale(
                    domain=list(METRICS.values()),
                    range=["#0072B2", "#E69F00", "#009E73"],
                ),
                legend=alt.Legend(orient="bottom"),
            ),
            strokeDash=alt.StrokeDash("metric:N", legend=None),
            tooltip=["metric:N", "epoch:Q", alt.Tooltip("value:Q", format=".3f")],
        )
        .add_params(p1_param, p2_param)
        .transform_filter(chosen)
        .properties(
            width=560,
            height=220,
            title=alt.Title(
                alt.expr(
                    "'curves for p1 = ' + format(p1, '.1f') + "
                    "', p2 = ' + format(p2, '.1f')"
                ),
            ),
        )
    )

    def heatmap(field: str, title: str, scheme: str, legend: str):
        base = alt.Chart(alt.Data(values=final_records(payload))).encode(
            x=alt.X("p2:O", title="p2 (second hidden layer)"),
            y=alt.Y("p1:O", title="p1 (first hidden layer)", sort="descending"),
        )
        cells = base.mark_rect().encode(
            color=alt.Color(f"{field}:Q", title=legend, scale=alt.Scale(scheme=scheme)),
            tooltip=[
                "p1:O",
                "p2:O",
                alt.Tooltip("test_acc:Q", format=".3f", title="test accuracy"),
                alt.Tooltip("gap:Q", format=".3f", title="train-test gap"),
            ],
        )
        # Outline the cell the sliders point at.
        marker = base.mark_rect(
            fill=None, stroke="black", strokeWidth=2.5
        ).transform_filter(chosen)
        # Two maps side by side fit the book's text column (about 690 px).
        return (cells + marker).properties(width=205, height=205, title=title)

    # Each map gets its own colour scale: accuracies and gaps differ in range.
    heatmaps = alt.hconcat(
        heatmap("test_acc", "final test accuracy", "viridis", "accuracy"),
        heatmap("gap", "train-test gap (dropout off)", "cividis", "gap"),
    ).resolve_scale(color="independent")
    # Vega gives the chart's SVG this description as its accessible name.
    description = (
        "Interactive chart of the p1/p2 sweep. Two sliders choose the dropout "
        "probabilities p1 and p2; a line chart shows that setting's training "
        "loss, training accuracy and test accuracy over the epochs. Below, two "
        "heatmaps show the final test accuracy and the train-test gap for "
        "every pair of p1 and p2, with the chosen pair outlined."
    )
    return (
        alt.vconcat(curves, heatmaps)
        .properties(description=description)
        .configure_view(stroke=None)
    )


def chart_html(chart) -> str:
    """The chart as an HTML fragment with Vega's scripts inlined (no CDN).

    Altair writes a whole document; a page needs only its style, scripts and
    the chart's container, so the document's head and body are unwrapped.
    """
    # SVG rather than canvas: the marks stay in the page's DOM, where screen
    # readers and the browser tests can find them.
    document = chart.to_html(inline=True, embed_options={"renderer": "svg"})
    match = re.search(r"<head>(.*)</head>\s*<body>(.*)</body>", document, re.S)
    if match is None:
        raise ValueError("unexpected HTML from Altair: no <head>/<body> found")
    head, body = match.groups()
    head = re.sub(r'<meta charset="UTF-8">', "", head)
    # Vega's bundle declares top-level names (such as `_`) that other scripts
    # of a page may declare too, which stops a classic script. As modules,
    # the bundle and the embedding code get a scope of their own; modules
    # run in document order, so vegaEmbed exists when the chart asks for it.
    return re.sub(
        r'<script type="text/javascript">', '<script type="module">', head + body
    )
