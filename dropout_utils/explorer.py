"""An ipywidgets panel that retrains the chapter's model for chosen p1 and p2.

Needs a live Jupyter kernel (JupyterLab, Notebook 7, VS Code, Colab, Binder):
in a static page the sliders cannot retrain anything.
"""

from __future__ import annotations

import asyncio
import html
import threading
import time
from dataclasses import dataclass, field

import torch
from matplotlib.figure import Figure

from .data import FashionMNIST, TensorBatches, fashion_mnist_batches
from .models import DropoutMLP
from .plotting import figure_to_png
from .training import (
    BatchEnd,
    History,
    TrainConfig,
    evaluate_accuracy,
    iter_train,
)

# Okabe-Ito colours, readable with the common colour-vision deficiencies.
_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")


@dataclass
class ExplorerRun:
    """One run started from the panel, finished or stopped."""

    p1: float
    p2: float
    num_epochs: int
    lr: float
    seed: int
    loss_trace: list[tuple[float, float]] = field(default_factory=list)
    history: History = field(default_factory=History)
    clean_train_acc: float | None = None  # dropout off, after the last epoch
    # time.perf_counter() when Train was pressed, and when a figure showing
    # the run's first loss was ready (the panel's responsiveness)
    started_at: float = field(default_factory=time.perf_counter)
    first_drawn_at: float | None = None

    @property
    def label(self) -> str:
        return f"p1={self.p1:.2f}, p2={self.p2:.2f}"

    @property
    def gap(self) -> float | None:
        if self.clean_train_acc is None or not self.history.epochs:
            return None
        return self.clean_train_acc - self.history.final.test_acc


class DropoutExplorer:
    """Sliders for p1 and p2, Train/Stop/Clear buttons, live curves, a run table.

    In a Jupyter kernel a run trains on the kernel's event loop and hands
    control back after every minibatch, so the kernel keeps handling button
    clicks (and other cells) while it trains: Stop ends a run within one
    minibatch. Outside a kernel a run trains in a background thread. The
    settings are read when Train is pressed; moving a slider during a run
    changes only the next run.

    Args:
        data: Fashion-MNIST in memory (`load_fashion_mnist()`); tests pass a
            small synthetic stand-in.
        batch_size: minibatch size of every run.
        redraw_seconds: the least time between two redraws of the curves
            (each epoch's end and a run's first point are always drawn).
            Rendering the figure costs a few hundredths of a second, which
            training waits for, so very frequent redraws slow it down.
    """

    def __init__(
        self,
        data: FashionMNIST,
        *,
        batch_size: int = 256,
        redraw_seconds: float = 0.5,
    ) -> None:
        import ipywidgets as widgets

        self.data = data
        self.batch_size = batch_size
        self.redraw_seconds = redraw_seconds
        self.runs: list[ExplorerRun] = []
        self.current: ExplorerRun | None = None
        self._thread: threading.Thread | None = None  # a run outside a kernel
        self._task: asyncio.Task | None = None  # a run on a kernel's event loop
        self._stop = threading.Event()
        self._lock = threading.Lock()  # guards runs/current against the UI
        self._draw_lock = threading.Lock()  # a Figure is not thread-safe
        self._last_draw = 0.0
        # One figure, redrawn and rendered to PNG: nothing enters pyplot, so
        # no figure leaks however many runs are made.
        self.figure = Figure(figsize=(9, 3), dpi=90)
        self._setup_axes()

        def slider(description: str, value: float) -> widgets.FloatSlider:
            # continuous_update=False: a drag does not fire on every value.
            return widgets.FloatSlider(
                value=value,
                min=0.0,
                max=0.9,
                step=0.05,
                description=description,
                continuous_update=False,
                readout_format=".2f",
            )

        self.p1 = slider("p1 (layer 1)", 0.2)
        self.p2 = slider("p2 (layer 2)", 0.5)
        self.epochs = widgets.IntSlider(
            value=10, min=1, max=30, description="epochs", continuous_update=False
        )
        self.lr = widgets.FloatSlider(
            value=0.5,
            min=0.05,
            max=1.0,
            step=0.05,
            description="learning rate",
            continuous_update=False,
        )
        self.seed = widgets.IntText(value=0, description="seed")
        self.train_button = widgets.Button(description="Train", button_style="primary")
        self.stop_button = widgets.Button(description="Stop", disabled=True)
        self.clear_button = widgets.Button(description="Clear")
        self.status = widgets.Label(value="Choose p1 and p2, then press Train.")
        self.plot = widgets.Image(format="png")
        self.table = widgets.HTML()

        self.train_button.on_click(self._on_train)
        self.stop_button.on_click(self._on_stop)
        self.clear_button.on_click(self._on_clear)

        self.widget = widgets.VBox(
            [
                widgets.HBox([self.p1, self.p2]),
                widgets.HBox([self.epochs, self.lr, self.seed]),
                widgets.HBox([self.train_button, self.stop_button, self.clear_button]),
                self.status,
                self.plot,
                self.table,
            ]
        )
        self._draw()
        self._render_table()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    @property
    def running(self) -> bool:
        if self._task is not None and not self._task.done():
            return True
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the current run ends (for scripts and tests).

        A run started inside an event loop (a Jupyter kernel) cannot be
        waited for by blocking that loop; `await panel.finished()` instead.
        """
        if self._task is not None and not self._task.done():
            raise RuntimeError(
                "this run trains on the event loop of this thread: blocking "
                "would stop it. Use `await panel.finished()` instead."
            )
        if self._thread is not None:
            self._thread.join(timeout)

    async def finished(self) -> None:
        """Wait, without blocking the event loop, until the current run ends."""
        while self.running:
            await asyncio.sleep(0.01)

    # --- button handlers --------------------------------------------------

    def _on_train(self, _button=None) -> None:
        if self.running:
            with self._lock:
                current = self.current
            doing = f"Training {current.label}" if current else "A run is in progress"
            self.status.value = f"{doing}: press Stop before starting another run."
            return
        # Snapshot the settings now, so moving a slider during the run cannot
        # change the run that is already going.
        run = ExplorerRun(
            p1=round(self.p1.value, 2),
            p2=round(self.p2.value, 2),
            num_epochs=self.epochs.value,
            lr=self.lr.value,
            seed=self.seed.value,
        )
        self._stop.clear()
        with self._lock:
            self.current = run
        self.train_button.disabled = True
        self.stop_button.disabled = False
        self.status.value = f"Training {run.label} for {run.num_epochs} epochs..."
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            # In a Jupyter kernel: train on the kernel's own event loop, in
            # its main thread, handing control back after every minibatch so
            # that the kernel still sees button clicks. A background thread
            # would be simpler, but on a two-core machine PyTorch's OpenMP
            # threads then wake up slowly for each of the many small
            # operations (GNU OpenMP stops spinning when it manages more
            # threads than there are cores), and an epoch takes twice as long.
            self._task = loop.create_task(self._train(run))
        else:
            # No event loop (a script, a test): a thread runs one of its own.
            self._thread = threading.Thread(
                target=asyncio.run, args=(self._train(run),), daemon=True
            )
            self._thread.start()

    def _on_stop(self, _button=None) -> None:
        self._stop.set()

    def _on_clear(self, _button=None) -> None:
        with self._lock:
            self.runs.clear()
        self._draw(force=True)
        self._render_table()

    # --- the run itself (background thread) -------------------------------

    async def _train(self, run: ExplorerRun) -> None:
        try:
            train_iter, test_iter = fashion_mnist_batches(
                self.batch_size, data=self.data, seed=run.seed
            )
            num_batches = len(train_iter)
            torch.manual_seed(run.seed)
            net = DropoutMLP(dropout1=run.p1, dropout2=run.p2)
            config = TrainConfig(num_epochs=run.num_epochs, lr=run.lr, seed=run.seed)
            steps_before = 0  # minibatches of the epochs already finished
            events = iter_train(net, train_iter, test_iter, config, run.history)
            for event in events:
                if isinstance(event, BatchEnd):
                    x = (steps_before + event.step + 1) / num_batches  # in epochs
                    run.loss_trace.append((x, event.loss))
                    # The first point is drawn at once, so the reader sees the
                    # run start; later points wait for the next redraw.
                    self._draw(force=len(run.loss_trace) == 1)
                else:
                    steps_before = len(event.history) * num_batches
                    self._draw(force=True)
                if self._stop.is_set():
                    events.close()
                    run.history.interrupted = True
                    break
                # Let the kernel handle what arrived meanwhile (a Stop click).
                await asyncio.sleep(0)
            history = run.history
            if history.epochs:
                clean_iter = TensorBatches(
                    self.data.train_images, self.data.train_labels, 1000
                )
                run.clean_train_acc = evaluate_accuracy(net, clean_iter)
            verb = "Stopped" if history.interrupted else "Finished"
            self.status.value = (
                f"{verb} {run.label} after {len(history)} of {run.num_epochs} epochs."
            )
        except Exception as error:  # shown in the panel: a task has no cell
            self.status.value = f"The run failed: {error}"
        finally:
            with self._lock:
                self.runs.append(run)
                self.current = None
            self._draw(force=True)
            self._render_table()
            self.train_button.disabled = False
            self.stop_button.disabled = True

    # --- drawing -------------------------------------------------------------

    def _draw(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last_draw < self.redraw_seconds:
            return
        self._last_draw = now
        with self._lock:
            finished = list(self.runs)
            current = self.current
        with self._draw_lock:
            self._draw_runs(finished, current)

    def _setup_axes(self) -> None:
        """Create the three axes once; redraws only update their lines."""
        self._axes = self.figure.subplots(1, 3)
        titles = ("training loss", "training accuracy (dropout on)", "test accuracy")
        for ax, title in zip(self._axes, titles, strict=True):
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
        # Fixed margins instead of tight_layout(): the layout engine measures
        # every tick label on each call and would cost as much as the drawing.
        self.figure.subplots_adjust(
            left=0.05, right=0.99, bottom=0.16, top=0.9, wspace=0.22
        )
        self._drawn_runs: list[ExplorerRun] = []  # finished runs already drawn
        self._live: tuple[ExplorerRun, list] | None = None  # running run, lines

    def _draw_runs(
        self, finished: list[ExplorerRun], current: ExplorerRun | None
    ) -> None:
        """Bring the lines up to date, then render the figure to PNG.

        Lines are created once per run and afterwards only get new data, so a
        redraw costs one rendering of the figure and nothing more.
        """
        axes = self._axes
        drawn = self._drawn_runs
        if len(finished) < len(drawn) or any(
            a is not b for a, b in zip(drawn, finished, strict=False)
        ):  # the runs were cleared
            for ax in axes:
                for line in list(ax.lines):
                    line.remove()
            self._drawn_runs, self._live = [], None
        if self._live is not None and self._live[0] is not current:
            for line in self._live[1]:  # the run ended: redraw it faded
                line.remove()
            self._live = None
        for run in finished[len(self._drawn_runs) :]:
            index = len(self._drawn_runs)
            self._plot_run(axes, run, _PALETTE[index % len(_PALETTE)], faded=True)
            self._drawn_runs.append(run)
        if current is not None:
            if self._live is None:
                lines = self._plot_run(axes, current, "black", faded=False)
                self._live = (current, lines)
            else:
                self._update_lines(self._live[1], current)
        for ax in axes:
            ax.relim()
            ax.autoscale_view()
        if finished or current is not None:
            axes[2].legend(fontsize=7, loc="lower right")
        elif axes[2].get_legend() is not None:
            axes[2].get_legend().remove()
        self.plot.value = figure_to_png(self.figure)
        if current is not None and current.loss_trace and not current.first_drawn_at:
            current.first_drawn_at = time.perf_counter()

    @staticmethod
    def _curves(run: ExplorerRun) -> list[tuple[list[float], list[float]]]:
        loss_x = [x for x, _ in run.loss_trace]
        loss_y = [y for _, y in run.loss_trace]
        epochs = run.history.column("epoch")
        return [
            (loss_x, loss_y),
            (epochs, run.history.column("train_acc")),
            (epochs, run.history.column("test_acc")),
        ]

    @classmethod
    def _plot_run(cls, axes, run: ExplorerRun, color: str, faded: bool) -> list:
        style = {"color": color, "alpha": 0.35 if faded else 1.0, "lw": 1.2}
        label = run.label + ("" if faded else " (running)")
        (loss, train_acc, test_acc) = cls._curves(run)
        return [
            axes[0].plot(*loss, **style)[0],
            axes[1].plot(*train_acc, "o-", ms=3, **style)[0],
            axes[2].plot(*test_acc, "o-", ms=3, label=label, **style)[0],
        ]

    @classmethod
    def _update_lines(cls, lines: list, run: ExplorerRun) -> None:
        for line, (xs, ys) in zip(lines, cls._curves(run), strict=True):
            line.set_data(xs, ys)

    def _render_table(self) -> None:
        with self._lock:
            runs = list(self.runs)
        if not runs:
            self.table.value = "<em>No runs yet.</em>"
            return

        def fmt(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.3f}"

        rows = []
        for run in runs:
            final = run.history.final if run.history.epochs else None
            cells = (
                f"{run.p1:.2f}",
                f"{run.p2:.2f}",
                f"{len(run.history)}/{run.num_epochs}",
                f"{run.lr:g}",
                str(run.seed),
                fmt(final.train_acc if final else None),
                fmt(run.clean_train_acc),
                fmt(final.test_acc if final else None),
                fmt(run.gap),
            )
            tds = "".join(f"<td>{html.escape(c)}</td>" for c in cells)
            rows.append(f"<tr>{tds}</tr>")
        header = (
            "<tr><th>p1</th><th>p2</th><th>epochs</th><th>lr</th><th>seed</th>"
            "<th>train acc (dropout on)"
            "</th><th>train acc (off)</th><th>test acc</th><th>gap</th></tr>"
        )
        self.table.value = (
            "<table class='dropout-runs'>" + header + "".join(rows) + "</table>"
        )
