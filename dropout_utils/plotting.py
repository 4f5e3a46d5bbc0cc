"""Training curves that redraw in place in a notebook, or log a line elsewhere."""

from __future__ import annotations

import io
import logging

from matplotlib.figure import Figure

from .training import History

logger = logging.getLogger(__name__)

#: Metric name -> (legend label, line style). Colours come from the
#: colour-blind-safe Okabe-Ito palette; styles differ too, so the curves can
#: be told apart without colour.
CURVES = {
    "train_loss": ("train loss", "#0072B2", "-"),
    "train_acc": ("train acc (dropout on)", "#E69F00", "--"),
    "test_acc": ("test acc", "#009E73", "-."),
}


def in_notebook() -> bool:
    """True inside a Jupyter kernel (Notebook, JupyterLab, VS Code, Colab)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    # A terminal IPython has no kernel and cannot show images inline.
    return shell is not None and getattr(shell, "kernel", None) is not None


def plot_history(
    history: History,
    *,
    num_epochs: int | None = None,
    title: str | None = None,
    figure: Figure | None = None,
) -> Figure:
    """Draw loss and accuracies against epochs on one set of axes."""
    fig = Figure(figsize=(6, 3.6), dpi=100) if figure is None else figure
    fig.clear()
    ax = fig.add_subplot()
    epochs = history.column("epoch")
    for name, (label, color, style) in CURVES.items():
        ax.plot(
            epochs,
            history.column(name),
            style,
            color=color,
            marker="o",
            markersize=3,
            label=label,
        )
    last = num_epochs or max(epochs, default=1)
    ax.set_xlim(0.8, max(last, 1) + 0.2)
    ax.set_ylim(0, max([1.0, *history.column("train_loss")]) * 1.05)
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
    ax.legend(loc="center right")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def figure_to_png(fig: Figure) -> bytes:
    """The figure rendered as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


class LiveCurves:
    """Redraw training curves in place after each epoch.

    In a Jupyter kernel the plot is shown through an IPython display handle
    and replaced on every update, so an executed notebook keeps exactly one
    final figure. The figure never enters pyplot's global state, so nothing
    is shown twice or leaked. Outside a kernel each update logs one line.

    Use it as the `on_epoch_end` callback of `dropout_utils.train`.
    """

    def __init__(
        self,
        num_epochs: int | None = None,
        title: str | None = None,
        *,
        notebook: bool | None = None,
    ) -> None:
        self.num_epochs = num_epochs
        self.title = title
        self.notebook = in_notebook() if notebook is None else notebook
        self.figure = Figure(figsize=(6, 3.6), dpi=100)
        self._handle = None

    def __call__(self, history: History) -> None:
        self.update(history)

    def update(self, history: History) -> None:
        if not self.notebook:
            stats = history.final
            total = f"/{self.num_epochs}" if self.num_epochs else ""
            logger.info(
                "epoch %d%s: train loss %.3f, train acc %.3f, test acc %.3f",
                stats.epoch,
                total,
                stats.train_loss,
                stats.train_acc,
                stats.test_acc,
            )
            return
        from IPython.display import Image, display

        plot_history(
            history,
            num_epochs=self.num_epochs,
            title=self.title,
            figure=self.figure,
        )
        image = Image(data=figure_to_png(self.figure), format="png")
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)
