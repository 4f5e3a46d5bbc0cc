"""Live training curves: a log line outside notebooks, one figure inside."""

from __future__ import annotations

import logging

import IPython
import IPython.display
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from dropout_utils import EpochStats, History, LiveCurves, plot_history
from dropout_utils.plotting import CURVES, in_notebook

LOGGER = "dropout_utils.plotting"


def make_history(num_epochs: int) -> History:
    history = History()
    for epoch in range(1, num_epochs + 1):
        history.epochs.append(
            EpochStats(
                epoch=epoch,
                train_loss=1.0 / epoch,
                train_acc=0.5 + 0.1 * epoch,
                test_acc=0.55 + 0.1 * epoch,
                seconds=0.1,
            )
        )
    return history


def grow(num_epochs: int):
    """The history as the callback sees it after each epoch."""
    for n in range(1, num_epochs + 1):
        yield make_history(n)


class FakeHandle:
    def __init__(self) -> None:
        self.updates: list = []

    def update(self, obj) -> None:
        self.updates.append(obj)


@pytest.fixture
def displayed(monkeypatch):
    """Capture IPython.display.display calls; each returns a FakeHandle."""
    calls: list[tuple[tuple, dict, FakeHandle]] = []

    def fake_display(*objs, **kwargs):
        handle = FakeHandle()
        calls.append((objs, kwargs, handle))
        return handle

    monkeypatch.setattr(IPython.display, "display", fake_display)
    return calls


def test_not_in_notebook_here():
    assert in_notebook() is False


def test_in_notebook_needs_a_kernel(monkeypatch):
    class TerminalShell:
        pass

    class KernelShell:
        kernel = object()

    monkeypatch.setattr(IPython, "get_ipython", lambda: TerminalShell())
    assert in_notebook() is False
    monkeypatch.setattr(IPython, "get_ipython", lambda: KernelShell())
    assert in_notebook() is True


def test_live_curves_outside_notebook_logs_one_line_per_epoch(caplog, displayed):
    curves = LiveCurves(num_epochs=3)
    assert curves.notebook is False
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for history in grow(3):
            curves(history)
    records = [r for r in caplog.records if r.name == LOGGER]
    assert len(records) == 3
    assert all(r.levelno == logging.INFO for r in records)
    messages = [r.getMessage() for r in records]
    assert messages[0].startswith("epoch 1/3:")
    assert messages[2] == (
        "epoch 3/3: train loss 0.333, train acc 0.800, test acc 0.850"
    )
    assert displayed == []
    assert plt.get_fignums() == []


def test_log_line_without_total_epochs(caplog):
    curves = LiveCurves(notebook=False)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        curves(make_history(2))
    (record,) = [r for r in caplog.records if r.name == LOGGER]
    assert record.getMessage().startswith("epoch 2: train loss 0.500")


def test_live_curves_in_notebook_displays_once_then_updates(displayed, caplog):
    curves = LiveCurves(num_epochs=4, title="scratch", notebook=True)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for history in grow(4):
            curves.update(history)

    # One display, with a display id, so that later updates replace it.
    assert len(displayed) == 1
    objs, kwargs, handle = displayed[0]
    assert kwargs.get("display_id") is True
    assert len(objs) == 1
    assert isinstance(objs[0], IPython.display.Image)
    assert objs[0].data[:8] == b"\x89PNG\r\n\x1a\n"
    # The other three epochs update the same output in place.
    assert len(handle.updates) == 3
    assert all(isinstance(u, IPython.display.Image) for u in handle.updates)
    assert all(u.data[:8] == b"\x89PNG\r\n\x1a\n" for u in handle.updates)
    # Each image differs: the curves grew.
    images = [objs[0].data] + [u.data for u in handle.updates]
    assert len(set(images)) == 4
    # In a notebook nothing is logged, and pyplot is never involved.
    assert [r for r in caplog.records if r.name == LOGGER] == []
    assert plt.get_fignums() == []


def test_live_curves_reuse_one_figure(displayed):
    curves = LiveCurves(num_epochs=2, notebook=True)
    figure = curves.figure
    for history in grow(2):
        curves(history)
    assert curves.figure is figure
    assert len(figure.axes) == 1  # cleared and redrawn, not stacked
    lines = figure.axes[0].get_lines()
    assert len(lines) == 3
    assert all(len(line.get_xdata()) == 2 for line in lines)
    assert figure.axes[0].get_title() == ""


def test_live_curves_title_and_x_range(displayed):
    curves = LiveCurves(num_epochs=10, title="concise", notebook=True)
    curves(make_history(1))
    ax = curves.figure.axes[0]
    assert ax.get_title() == "concise"
    # The x axis already spans all planned epochs after the first one.
    assert ax.get_xlim()[1] == pytest.approx(10.2)


def test_plot_history_returns_labelled_figure():
    history = make_history(3)
    fig = plot_history(history, title="run")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    lines = ax.get_lines()
    labels = [line.get_label() for line in lines]
    assert labels == [label for label, _, _ in CURVES.values()]
    assert labels == ["train loss", "train acc (dropout on)", "test acc"]
    for line, name in zip(lines, CURVES, strict=True):
        assert list(line.get_xdata()) == [1, 2, 3]
        assert list(line.get_ydata()) == pytest.approx(history.column(name))
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == labels
    assert ax.get_xlabel() == "epoch"
    assert ax.get_title() == "run"
    # The curves can be told apart without colour.
    assert len({line.get_linestyle() for line in lines}) == 3
    assert len({line.get_color() for line in lines}) == 3
    assert plt.get_fignums() == []


def test_plot_history_y_range_covers_a_large_loss():
    history = make_history(2)
    history.epochs[0].train_loss = 2.4
    ax = plot_history(history).axes[0]
    assert ax.get_ylim()[0] == 0
    assert ax.get_ylim()[1] == pytest.approx(2.4 * 1.05)
    ax = plot_history(make_history(2)).axes[0]
    assert ax.get_ylim()[1] == pytest.approx(1.05)


def test_plot_history_redraws_into_a_given_figure():
    fig = Figure()
    assert plot_history(make_history(1), figure=fig) is fig
    plot_history(make_history(3), figure=fig)
    assert len(fig.axes) == 1
    assert all(len(line.get_xdata()) == 3 for line in fig.axes[0].get_lines())


def test_plot_history_of_an_empty_history():
    fig = plot_history(History(), num_epochs=5)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 3
    assert all(len(line.get_xdata()) == 0 for line in ax.get_lines())
    assert ax.get_xlim() == pytest.approx((0.8, 5.2))
