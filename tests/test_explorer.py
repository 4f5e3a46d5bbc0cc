"""The p1/p2 explorer panel, driven headless on a small synthetic data set."""

from __future__ import annotations

import asyncio
import time

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.figure import Figure

from dropout_utils.data import FashionMNIST
from dropout_utils.explorer import DropoutExplorer

pytest.importorskip("ipywidgets")

PNG_MAGIC = b"\x89PNG"


@pytest.fixture(scope="module")
def tiny_data() -> FashionMNIST:
    """A learnable stand-in: the class is the brightest of ten image strips."""
    generator = torch.Generator().manual_seed(0)

    def split(count: int) -> tuple[torch.Tensor, torch.Tensor]:
        labels = torch.randint(0, 10, (count,), generator=generator)
        images = torch.rand(count, 1, 28, 28, generator=generator) * 0.2
        for i, label in enumerate(labels.tolist()):
            images[i, 0, :, 2 * label : 2 * label + 3] += 0.8
        return images, labels

    train_images, train_labels = split(512)
    test_images, test_labels = split(256)
    return FashionMNIST(train_images, train_labels, test_images, test_labels)


@pytest.fixture
def explorer(tiny_data):
    panel = DropoutExplorer(tiny_data, batch_size=64, redraw_seconds=0.0)
    yield panel
    panel._on_stop()
    panel.wait(30)


def train_once(panel: DropoutExplorer, **settings) -> None:
    for name, value in settings.items():
        getattr(panel, name).value = value
    panel.train_button.click()
    panel.wait(60)
    assert not panel.running


def test_a_run_updates_the_curves_and_the_table(explorer):
    assert "No runs yet" in explorer.table.value
    blank = explorer.plot.value
    train_once(explorer, p1=0.1, p2=0.3, epochs=2, seed=3)

    assert bytes(explorer.plot.value).startswith(PNG_MAGIC)
    assert explorer.plot.value != blank
    (run,) = explorer.runs
    assert (run.p1, run.p2, run.num_epochs, run.seed) == (0.1, 0.3, 2, 3)
    assert len(run.history) == 2
    assert len(run.loss_trace) == 2 * 8  # 512 examples / 64 per batch, 2 epochs
    assert run.loss_trace[-1][0] == pytest.approx(2.0)
    assert 0.0 <= run.history.final.test_acc <= 1.0
    assert run.clean_train_acc is not None
    lr = f"{explorer.lr.value:g}"
    row = f"<td>0.10</td><td>0.30</td><td>2/2</td><td>{lr}</td><td>3</td>"
    assert row in explorer.table.value  # runs differing in lr or seed show it
    assert explorer.status.value.startswith("Finished p1=0.10, p2=0.30")
    assert not explorer.train_button.disabled and explorer.stop_button.disabled


def test_finished_runs_stay_as_overlays_until_cleared(explorer):
    train_once(explorer, p1=0.0, p2=0.0, epochs=1)
    train_once(explorer, p1=0.5, p2=0.5, epochs=1)
    assert [run.label for run in explorer.runs] == [
        "p1=0.00, p2=0.00",
        "p1=0.50, p2=0.50",
    ]
    assert explorer.table.value.count("<tr>") == 1 + 2  # header + two runs
    legend = explorer.figure.axes[2].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [
        "p1=0.00, p2=0.00",
        "p1=0.50, p2=0.50",
    ]
    # Finished runs are drawn faded.
    assert all(line.get_alpha() < 1 for line in explorer.figure.axes[2].lines)

    explorer.clear_button.click()
    assert explorer.runs == []
    assert "No runs yet" in explorer.table.value
    assert explorer.figure.axes[2].get_legend() is None


def test_stop_ends_the_run_within_a_batch_and_keeps_the_partial_curve(explorer):
    explorer.epochs.value = 30
    explorer.train_button.click()
    deadline = time.time() + 30
    while explorer.current is None or len(explorer.current.loss_trace) < 10:
        assert time.time() < deadline, "the run never started"
        time.sleep(0.01)
    running = explorer.current
    explorer.stop_button.click()
    points_at_click = len(running.loss_trace)
    explorer.wait(30)

    (run,) = explorer.runs
    # The flag is checked after every batch: at most the batch in flight ends.
    assert len(run.loss_trace) <= points_at_click + 1
    assert run.history.interrupted
    assert len(run.history) < 30
    assert len(run.loss_trace) >= 10
    assert explorer.status.value.startswith("Stopped p1=0.20, p2=0.50")
    assert explorer.table.value.count("<tr>") == 2


def test_moving_a_slider_or_pressing_train_during_a_run_is_harmless(explorer):
    explorer.epochs.value = 30
    explorer.p1.value = 0.2
    explorer.train_button.click()
    explorer.p1.value = 0.8  # during the run
    explorer.train_button.click()  # a second press is refused
    assert explorer.status.value == (
        "Training p1=0.20, p2=0.50: press Stop before starting another run."
    )
    explorer.stop_button.click()
    explorer.wait(30)
    assert [run.p1 for run in explorer.runs] == [0.2]


def test_no_figure_is_leaked_however_many_runs(explorer, monkeypatch):
    created = []
    original_init = Figure.__init__

    def counting_init(self, *args, **kwargs):
        created.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "__init__", counting_init)
    figure = explorer.figure
    for _ in range(3):
        train_once(explorer, epochs=1)
    # Every redraw reuses the panel's one figure; pyplot never sees it.
    assert created == []
    assert explorer.figure is figure
    assert plt.get_fignums() == []


def test_a_failing_run_reports_in_the_panel(explorer, tiny_data):
    explorer.lr.value = 1.0
    explorer.data = FashionMNIST(
        tiny_data.train_images * float("nan"),
        tiny_data.train_labels,
        tiny_data.test_images,
        tiny_data.test_labels,
    )
    train_once(explorer, epochs=1)
    assert explorer.status.value.startswith("The run failed: epoch 1:")
    assert not explorer.train_button.disabled


def test_the_first_point_is_drawn_at_once_even_with_rare_redraws(tiny_data):
    panel = DropoutExplorer(tiny_data, batch_size=64, redraw_seconds=3600.0)
    shown = []
    original = panel._draw_runs

    def spy(finished, current):
        original(finished, current)
        if current is not None:
            shown.append(len(current.loss_trace))

    panel._draw_runs = spy
    train_once(panel, epochs=2)
    (run,) = panel.runs
    # Redraws are an hour apart, yet the run's first loss was drawn at once,
    # then each epoch's end: 1 point, 8 points (epoch 1), 16 points (epoch 2).
    assert shown == [1, 8, 16]
    assert run.started_at <= run.first_drawn_at
    assert run.first_drawn_at - run.started_at < 30


def test_finished_runs_keep_their_lines_when_the_next_run_is_drawn(explorer):
    train_once(explorer, epochs=1)
    first_lines = list(explorer.figure.axes[2].lines)
    train_once(explorer, epochs=1)
    lines = explorer.figure.axes[2].lines
    # The first run's faded line is the same object: only new lines are added.
    assert len(lines) == 2
    assert lines[0] is first_lines[0]
    assert all(line.get_alpha() < 1 for line in lines)


def test_in_an_event_loop_a_run_trains_on_the_loop_and_stops_within_a_batch(
    tiny_data,
):
    # What a Jupyter kernel does: the click arrives while an event loop runs.
    panel = DropoutExplorer(tiny_data, batch_size=64, redraw_seconds=0.0)
    panel.epochs.value = 30

    async def scenario() -> int:
        panel.train_button.click()
        assert panel.running and panel._thread is None  # a task, no thread
        with pytest.raises(RuntimeError, match=r"await panel\.finished"):
            panel.wait()
        deadline = time.time() + 30
        while panel.current is None or len(panel.current.loss_trace) < 10:
            assert time.time() < deadline, "the run never got going"
            await asyncio.sleep(0)  # the loop runs the training in between
        points_at_click = len(panel.current.loss_trace)
        panel.stop_button.click()
        await panel.finished()
        return points_at_click

    points_at_click = asyncio.run(scenario())
    (run,) = panel.runs
    assert points_at_click <= len(run.loss_trace) <= points_at_click + 1
    assert run.history.interrupted and len(run.history) < 30
    assert panel.status.value.startswith("Stopped p1=0.20, p2=0.50")
    assert not panel.train_button.disabled


KERNEL_SETUP = """
import time, torch
from dropout_utils.data import FashionMNIST
from dropout_utils.explorer import DropoutExplorer
g = torch.Generator().manual_seed(0)
def split(n):
    images = torch.rand(n, 1, 28, 28, generator=g)
    return images, torch.randint(0, 10, (n,), generator=g)
data = FashionMNIST(*split(4096), *split(256))
explorer = DropoutExplorer(data, batch_size=64, redraw_seconds=0.2)
explorer.epochs.value = 30
"""


def test_in_a_real_kernel_the_panel_trains_while_the_kernel_answers():
    """A live ipykernel: cells keep running during a run, and Stop is honoured."""
    manager = pytest.importorskip("jupyter_client.manager")
    kernel, client = manager.start_new_kernel(kernel_name="python3")

    def execute(code: str) -> str:
        msg_id = client.execute(code)
        output = []
        while True:
            msg = client.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                output.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                raise AssertionError("\n".join(msg["content"]["traceback"]))
            elif (
                msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"
            ):
                return "".join(output).strip()

    try:
        execute(KERNEL_SETUP)
        execute("explorer.train_button.click()")
        # While the run trains, the kernel still runs cells (and so handles
        # button clicks, which reach it the same way).
        deadline = time.time() + 60
        while (
            int(
                execute(
                    "print(len(explorer.runs[-1].loss_trace) "
                    "if explorer.runs else len(explorer.current.loss_trace))"
                )
            )
            < 20
        ):
            assert time.time() < deadline, "the run never got going"
        assert execute("print(explorer.running, explorer._thread)") == "True None"
        at_click = int(
            execute(
                "n = len(explorer.current.loss_trace); "
                "explorer.stop_button.click(); print(n)"
            )
        )
        deadline = time.time() + 60
        while execute("print(explorer.running)") == "True":
            assert time.time() < deadline, "Stop was not honoured"
        after = execute(
            "run = explorer.runs[-1]; "
            "print(len(run.loss_trace), run.history.interrupted, len(run.history))"
        ).split()
        assert at_click <= int(after[0]) <= at_click + 1
        assert after[1] == "True" and int(after[2]) < 30
    finally:
        client.stop_channels()
        kernel.shutdown_kernel(now=True)


def test_a_seed_torch_cannot_take_is_reported_in_the_panel(explorer):
    train_once(explorer, epochs=1, seed=2**64)
    assert explorer.status.value.startswith("The run failed: seed must be between")
