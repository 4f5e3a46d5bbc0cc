"""Diagrams drawn for the chapter (no data involved)."""

from __future__ import annotations

from collections.abc import Collection

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle

# Okabe-Ito colours, readable with the common colour-vision deficiencies.
_LAYER_COLORS = {"x": "#56B4E9", "h": "#E69F00", "o": "#009E73"}
_DROPPED_COLOR = "#BBBBBB"


def _layer_positions(count: int, x: float) -> list[tuple[float, float]]:
    top = (count - 1) / 2
    return [(x, top - i) for i in range(count)]


def _draw_mlp(
    ax: Axes,
    num_inputs: int,
    num_hiddens: int,
    num_outputs: int,
    dropped: Collection[int],
    title: str,
) -> None:
    layers = {
        "x": _layer_positions(num_inputs, 0.0),
        "h": _layer_positions(num_hiddens, 1.6),
        "o": _layer_positions(num_outputs, 3.2),
    }

    # Edges first, so that the nodes are drawn on top of them. A dropped
    # hidden unit has neither incoming nor outgoing connections.
    for i, (hx, hy) in enumerate(layers["h"], start=1):
        if i in dropped:
            continue
        for x, y in layers["x"] + layers["o"]:
            ax.plot([x, hx], [y, hy], color="#555555", lw=0.8, zorder=1)

    radius = 0.28
    for name, positions in layers.items():
        for i, (x, y) in enumerate(positions, start=1):
            is_dropped = name == "h" and i in dropped
            ax.add_patch(
                Circle(
                    (x, y),
                    radius,
                    zorder=2,
                    lw=1.2,
                    facecolor="white" if is_dropped else _LAYER_COLORS[name],
                    edgecolor=_DROPPED_COLOR if is_dropped else "black",
                    linestyle="--" if is_dropped else "-",
                )
            )
            ax.text(
                x,
                y,
                f"${name}_{{{i}}}$",
                ha="center",
                va="center",
                zorder=3,
                fontsize=11,
                color=_DROPPED_COLOR if is_dropped else "black",
            )

    for label, x in (("input", 0.0), ("hidden", 1.6), ("output", 3.2)):
        ax.text(x, (num_hiddens - 1) / 2 + 0.75, label, ha="center", fontsize=10)
    ax.set_title(title, fontsize=11)
    ax.set_xlim(-0.5, 3.7)
    ax.set_ylim(-(num_hiddens - 1) / 2 - 0.6, (num_hiddens - 1) / 2 + 1.1)
    ax.set_aspect("equal")
    ax.axis("off")


def dropout_mlp_figure(
    dropped: Collection[int] = (2, 5),
    num_inputs: int = 4,
    num_hiddens: int = 5,
    num_outputs: int = 3,
) -> Figure:
    """An MLP with one hidden layer, before and after dropping hidden units.

    `dropped` holds 1-based indices of the hidden units to remove.
    """
    bad = [i for i in dropped if not 1 <= i <= num_hiddens]
    if bad:
        raise ValueError(f"hidden units are numbered 1..{num_hiddens}, got {bad}")
    fig = Figure(figsize=(8, 3.8), dpi=100)
    before, after = fig.subplots(1, 2)
    _draw_mlp(before, num_inputs, num_hiddens, num_outputs, (), "without dropout")
    names = ", ".join(f"$h_{{{i}}}$" for i in sorted(dropped))
    _draw_mlp(
        after,
        num_inputs,
        num_hiddens,
        num_outputs,
        dropped,
        f"with dropout: {names} dropped",
    )
    fig.tight_layout()
    return fig
