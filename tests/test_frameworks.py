"""The other frameworks: their stored runs, the book's helpers, and a fresh run.

The stored runs (frameworks/results/*.json) are what the book shows; the
tests marked `frameworks` set up each framework's environment when it is
missing (scripts/frameworks.sh), run its layer tests there and run its code
again, so that CI executes every framework's code once per run.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from dropout_utils import frameworks
from frameworks import common

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "frameworks.sh"

#: Epochs per model of the fresh runs in the test suite. The stored runs
#: have the chapter's 10; two keep CI's time in bounds on 2 CPU cores.
CI_EPOCHS = int(os.environ.get("FRAMEWORKS_CI_EPOCHS", "2"))


def check_run(result: dict, num_epochs: int, min_test_acc: float) -> None:
    """What every run must show, stored or fresh."""
    assert set(result["demo"]) == {"0.0", "0.5", "1.0"}
    X = np.arange(16, dtype=float).reshape(2, 8)
    np.testing.assert_array_equal(result["demo"]["0.0"]["values"], X)
    np.testing.assert_array_equal(result["demo"]["1.0"]["values"], 0 * X)
    half = np.array(result["demo"]["0.5"]["values"])
    # Each entry is dropped (0) or kept and doubled (2x).
    assert np.all((half == 0) | (half == 2 * X))
    assert 0 < (half[X > 0] == 0).sum() < 15  # some dropped, some kept
    for p, entry in result["demo"].items():
        assert entry["text"].strip(), f"no printed output for p = {p}"

    assert result["settings"] == {
        "num_epochs": num_epochs,
        "lr": 0.5,
        "batch_size": 256,
        "dropout1": 0.2,
        "dropout2": 0.5,
    }
    for model in frameworks.MODELS:
        epochs = result["models"][model]["epochs"]
        assert len(epochs) == num_epochs
        for epoch in epochs:
            assert 0 < epoch["train_loss"] < 3
            assert 0 <= epoch["train_acc"] <= 1
            assert epoch["seconds"] > 0
        assert epochs[-1]["test_acc"] >= min_test_acc, (model, epochs[-1])
        assert result["models"][model]["summary"].strip()


# --------------------------------------------------------------------------
# The stored runs the book shows
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stored():
    return frameworks.load_results()


@pytest.mark.parametrize("name", list(frameworks.FRAMEWORKS))
def test_stored_run_is_complete_and_plausible(stored, name):
    check_run(stored[name], num_epochs=10, min_test_acc=0.80)
    assert stored[name]["framework"] == name
    assert frameworks.version(stored[name], name)


@pytest.mark.parametrize("name", list(frameworks.FRAMEWORKS))
def test_stored_run_was_made_by_the_current_code(stored, name):
    # The book shows frameworks/<name>/model.py beside these outputs: they
    # must come from that very code.
    assert stored[name]["source_digest"] == common.source_digest(name), (
        f"frameworks/{name}'s code changed after its stored run; refresh it "
        f"with `bash scripts/frameworks.sh {name}` and commit the JSON"
    )


def test_comparison_table_has_a_row_per_framework_and_model(stored):
    pytorch = frameworks.history(stored["tensorflow"], "concise")
    table = frameworks.comparison_markdown(
        stored, {"version": "2.x", "histories": {"concise": pytorch}}
    )
    lines = table.splitlines()
    assert len(lines) == 2 + 1 + 2 * len(frameworks.FRAMEWORKS)
    assert all(line.count("|") == 7 for line in lines)
    for title in frameworks.FRAMEWORKS.values():
        assert sum(f"| {title} |" in line for line in lines) == 2


def test_phrases_come_from_the_stored_numbers(stored):
    accs = [
        frameworks.history(result, model).final.test_acc
        for result in stored.values()
        for model in frameworks.MODELS
    ]
    assert frameworks.test_acc_range(stored) == (
        f"between {min(accs):.3f} and {max(accs):.3f}"
    )
    assert "cores" in frameworks.machine_phrase(stored)
    text = frameworks.demo_text(stored["mxnet"])
    assert text.startswith("p = 0:\n") and "p = 0.5:\n" in text


def test_missing_or_broken_results_say_what_to_run(tmp_path):
    with pytest.raises(frameworks.FrameworkResultsError, match="make frameworks"):
        frameworks.load_results(tmp_path)
    for name in frameworks.FRAMEWORKS:
        (tmp_path / f"{name}.json").write_text("{")
    with pytest.raises(frameworks.FrameworkResultsError, match="scripts/frame"):
        frameworks.load_results(tmp_path)


def test_idx_reader_rejects_other_files(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\0\0\x0d\x01\0\0\0\x02ab")
    with pytest.raises(ValueError, match="not an IDX file"):
        common.read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(b"\0\0\x08\x01\0\0\0\x05ab")
    with pytest.raises(ValueError, match="truncated"):
        common.read_idx(short)
    good = tmp_path / "good"
    good.write_bytes(b"\0\0\x08\x02\0\0\0\x02\0\0\0\x03abcdef")
    np.testing.assert_array_equal(
        common.read_idx(good), np.frombuffer(b"abcdef", np.uint8).reshape(2, 3)
    )


# --------------------------------------------------------------------------
# A fresh run in each framework's own environment
# --------------------------------------------------------------------------


@pytest.mark.frameworks
@pytest.mark.parametrize("name", list(frameworks.FRAMEWORKS))
def test_framework_runs_and_passes_its_layer_tests(tmp_path, name):
    env = {
        **os.environ,
        "FRAMEWORKS_OUT": str(tmp_path),
        "EPOCHS": str(CI_EPOCHS),
    }
    # setup: creates .venvs/<name> when missing or outdated; test: the layer
    # tests in that environment; run: the demo and the training.
    done = subprocess.run(
        ["bash", str(SCRIPT), "setup", "test", "run", name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout
    result = json.loads((tmp_path / f"{name}.json").read_text())
    # Two epochs reach about 0.8; ten about 0.85.
    check_run(result, CI_EPOCHS, min_test_acc=0.70 if CI_EPOCHS < 5 else 0.80)
    assert result["source_digest"] == common.source_digest(name)


@pytest.mark.parametrize("page", ["from-scratch", "concise"])
def test_every_tab_set_offers_each_framework_in_the_same_order(page):
    # Synced tabs only stay in step when every set has every key.
    text = (ROOT / "chapters" / f"{page}.md").read_text()
    sets = text.split("::::{tab-set}")[1:]
    assert sets, f"no tab set on {page}"
    for tab_set in sets:
        body = tab_set.split("\n::::\n")[0]
        assert ":sync-group: framework" in body
        keys = [
            line.split()[1] for line in body.splitlines() if line.startswith(":sync: ")
        ]
        assert keys == ["pytorch", *frameworks.FRAMEWORKS]


def test_glue_names_are_the_names_the_helpers_glue(stored, monkeypatch):
    names = []
    monkeypatch.setattr(frameworks, "glue", lambda name, value: names.append(name))
    frameworks.glue_demos(stored)
    assert set(names) == frameworks.glue_names()
    for model in frameworks.MODELS:
        names.clear()
        frameworks.glue_framework_outputs(stored, model)
        assert set(names) == frameworks.glue_names(model)
        assert len(names) == len(set(names))


KERNEL_CHECK = {
    "tensorflow": ("import tensorflow as tf\nX = tf.ones((2, 8))", ".numpy()"),
    "paddle": ("import paddle\nX = paddle.ones((2, 8))", ".numpy()"),
    "mindspore": (
        "import mindspore as ms\nX = ms.ops.ones((2, 8), ms.float32)",
        ".asnumpy()",
    ),
    "mxnet": ("from mxnet import nd\nX = nd.ones((2, 8))", ".asnumpy()"),
}


@pytest.mark.frameworks
@pytest.mark.parametrize("name", list(frameworks.FRAMEWORKS))
def test_framework_kernel_runs_the_chapter_code(name):
    # Readers pick the kernel "Python 3 (<framework>, dropout book)" in
    # Jupyter; scripts/frameworks.sh setup registers it in the main venv.
    import nbclient
    import nbformat

    setup = subprocess.run(
        ["bash", str(SCRIPT), "setup", name], cwd=ROOT, capture_output=True, text=True
    )
    assert setup.returncode == 0, setup.stderr[-3000:]
    make_ones, to_numpy = KERNEL_CHECK[name]
    code = (
        f"{make_ones}\nfrom frameworks.{name}.model import dropout_layer\n"
        f"out = dropout_layer(X, 0.5){to_numpy}\n"
        "print(set(out.ravel().tolist()) <= {0.0, 2.0})"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    # Started in another folder: the kernel must find the code by itself.
    nbclient.NotebookClient(
        notebook,
        kernel_name=f"dropout-{name}",
        timeout=300,
        resources={"metadata": {"path": str(ROOT / "chapters")}},
    ).execute()
    outputs = notebook.cells[0].outputs
    text = "".join(
        out.get("text", "") for out in outputs if out.output_type == "stream"
    )
    assert text.strip().splitlines()[-1] == "True", outputs


@pytest.mark.book
@pytest.mark.parametrize(
    ("page", "key"), [("from-scratch", "scratch"), ("concise", "concise")]
)
def test_built_pages_show_each_framework_and_its_stored_numbers(
    built, stored, page, key
):
    html = (built / "html" / "chapters" / f"{page}.html").read_text()
    for sync_id in ["pytorch", *frameworks.FRAMEWORKS]:
        # every tab set has a tab for it, in the one sync group
        assert html.count(f'data-sync-group="framework" data-sync-id="{sync_id}"') == (
            html.count('data-sync-group="framework" data-sync-id="pytorch"')
        )
    glued = json.loads(
        (built / "jupyter_execute" / "chapters" / f"{page}.glue.json").read_text()
    )
    model = {"scratch": "from scratch", "concise": "concise"}[key]
    for name, result in stored.items():
        value = glued[f"fw_{name}_{key}_test_acc"]["data"]["text/plain"]
        assert float(value) == frameworks.history(result, model).final.test_acc
        assert f"fw_{name}_{key}_curves" in glued
