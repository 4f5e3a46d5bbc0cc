"""The MLP diagram before and after dropping hidden units."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from matplotlib.mathtext import MathTextParser
from matplotlib.patches import Circle

from dropout_utils import dropout_mlp_figure


def edges(num_inputs: int, num_hiddens: int, num_outputs: int, dropped: int) -> int:
    """Each remaining hidden unit connects to every input and every output."""
    return (num_hiddens - dropped) * (num_inputs + num_outputs)


def test_default_figure_has_two_panels_with_the_right_edges():
    fig = dropout_mlp_figure()
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    before, after = fig.axes
    assert edges(4, 5, 3, 0) == 4 * 5 + 5 * 3 == 35
    assert edges(4, 5, 3, 2) == 3 * 7 == 21
    assert len(before.get_lines()) == 35
    assert len(after.get_lines()) == 21
    assert len(after.get_lines()) < len(before.get_lines())
    assert before.get_title() == "without dropout"
    assert after.get_title() == "with dropout: $h_{2}$, $h_{5}$ dropped"
    assert plt.get_fignums() == []


def test_every_unit_is_drawn_in_both_panels():
    fig = dropout_mlp_figure()
    for ax in fig.axes:
        circles = [p for p in ax.patches if isinstance(p, Circle)]
        assert len(circles) == 4 + 5 + 3


def test_dropped_units_are_drawn_differently():
    fig = dropout_mlp_figure(dropped=(2, 5))
    after = fig.axes[1]
    dashed = [
        p for p in after.patches if isinstance(p, Circle) and p.get_linestyle() == "--"
    ]
    assert len(dashed) == 2
    centres = sorted(p.center for p in dashed)
    # Hidden units sit at x = 1.6; h_2 and h_5 are the second and fifth rows.
    assert [x for x, _ in centres] == [1.6, 1.6]
    assert [y for _, y in centres] == [-2.0, 1.0]


def test_no_edge_touches_a_dropped_unit():
    fig = dropout_mlp_figure(dropped=(2, 5))
    dropped_y = {1.0, -2.0}  # h_2 and h_5 (5 units centred on 0)
    for line in fig.axes[1].get_lines():
        xs, ys = list(line.get_xdata()), list(line.get_ydata())
        assert xs[1] == 1.6  # every edge ends at a hidden unit
        assert ys[1] not in dropped_y


@pytest.mark.parametrize(
    ("dropped", "sizes"),
    [
        ((), (4, 5, 3)),
        ((1,), (4, 5, 3)),
        ((1, 2, 3, 4, 5), (4, 5, 3)),
        ((3,), (2, 6, 2)),
    ],
)
def test_edge_counts_for_other_layouts(dropped, sizes):
    num_inputs, num_hiddens, num_outputs = sizes
    fig = dropout_mlp_figure(dropped, num_inputs, num_hiddens, num_outputs)
    before, after = fig.axes
    assert len(before.get_lines()) == edges(*sizes, 0)
    assert len(after.get_lines()) == edges(*sizes, len(dropped))


@pytest.mark.parametrize("dropped", [(0,), (6,), (-1,), (2, 9), (100,)])
def test_bad_unit_indices_raise_value_error(dropped):
    with pytest.raises(ValueError, match=r"1\.\.5"):
        dropout_mlp_figure(dropped=dropped)


def test_bad_indices_depend_on_the_hidden_layer_size():
    dropout_mlp_figure(dropped=(7,), num_hiddens=7)
    with pytest.raises(ValueError, match=r"1\.\.3"):
        dropout_mlp_figure(dropped=(4,), num_hiddens=3)


def _subscript_sizes(text: str) -> list[float]:
    """Font sizes of the digits in a rendered mathtext label such as $h_{12}$."""
    glyphs = MathTextParser("path").parse(text).glyphs
    # Each glyph is (font, fontsize, codepoint, x offset, y offset).
    return [size for _, size, code, *_ in glyphs if chr(code).isdigit()]


def test_two_digit_unit_labels_are_fully_subscripted():
    """$h_10$ renders as h with a subscript 1 followed by a full-size 0."""
    fig = dropout_mlp_figure(dropped=(11,), num_hiddens=12)
    after = fig.axes[1]
    labels = [t.get_text() for t in after.texts if t.get_text().startswith("$h")]
    assert len(labels) == 12
    letter_size = MathTextParser("path").parse("$h$").glyphs[0][1]
    for label in [*labels, after.get_title()]:
        sizes = _subscript_sizes(label)
        assert sizes, label
        assert all(size < letter_size for size in sizes), (
            f"{label!r}: not every digit of the index is a subscript"
        )
