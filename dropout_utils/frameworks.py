"""The other frameworks' stored runs (frameworks/results/*.json) for the book.

`scripts/frameworks.sh` runs the chapter's code in TensorFlow, PaddlePaddle,
MindSpore and MXNet, each in its own environment, and stores what it printed
and learned. The book's pages, which run in the PyTorch environment, read
those files through this module and glue the outputs into framework tabs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from .notebook import glue
from .plotting import plot_history
from .training import EpochStats, History

#: Directory name -> the name readers know.
FRAMEWORKS = {
    "tensorflow": "TensorFlow",
    "paddle": "PaddlePaddle",
    "mindspore": "MindSpore",
    "mxnet": "MXNet",
}
#: The two models each run trains, as named in the results files.
MODELS = ("from scratch", "concise")

#: Where the book's repository may be: this package's parent (a checkout with
#: the package installed in place), the current folder or one above it
#: (Binder, a notebook in chapters/), and where the pages' first cell clones
#: it on Colab, which installs a copy of the package elsewhere.
_REPOSITORY_CANDIDATES = (
    Path(__file__).resolve().parents[1],
    Path.cwd(),
    *Path.cwd().parents,
    Path("/content/dropout-book"),
)


def default_results_dir() -> Path:
    """The repository's `frameworks/results` folder, wherever the book runs."""
    for candidate in _REPOSITORY_CANDIDATES:
        if (candidate / "frameworks" / "results").is_dir():
            return candidate / "frameworks" / "results"
    return _REPOSITORY_CANDIDATES[0] / "frameworks" / "results"


class FrameworkResultsError(RuntimeError):
    """A framework's stored results are missing, malformed or stale."""


def load_results(results_dir: str | Path | None = None) -> dict[str, dict]:
    """Every framework's stored run, by directory name, in the book's order.

    `results_dir` defaults to the repository's `frameworks/results`.
    """
    results_dir = default_results_dir() if results_dir is None else Path(results_dir)
    results = {}
    for name in FRAMEWORKS:
        path = results_dir / f"{name}.json"
        try:
            result = json.loads(path.read_text())
        except FileNotFoundError:
            raise FrameworkResultsError(
                f"{path} is missing; run `make frameworks` (or "
                f"`bash scripts/frameworks.sh {name}`) to create it"
            ) from None
        except json.JSONDecodeError as error:
            raise FrameworkResultsError(
                f"{path} is not valid JSON ({error}); run "
                f"`bash scripts/frameworks.sh run {name}` to rewrite it"
            ) from None
        missing = {"versions", "demo", "models", "date"} - set(result)
        if missing or set(result.get("models", {})) != set(MODELS):
            raise FrameworkResultsError(
                f"{path} lacks {sorted(missing) or 'a model'}; run "
                f"`bash scripts/frameworks.sh run {name}` to rewrite it"
            )
        results[name] = result
    return results


def history(result: dict, model: str) -> History:
    """A stored model's training as a `History`, as `train` returns it."""
    epochs = result["models"][model]["epochs"]
    return History([EpochStats(epoch=i, **stats) for i, stats in enumerate(epochs, 1)])


def demo_text(result: dict) -> str:
    """The printed outputs of the 2 x 8 demo, one probability after another."""
    return "\n".join(
        f"p = {float(p):g}:\n{entry['text']}" for p, entry in result["demo"].items()
    )


def version(result: dict, name: str) -> str:
    """The framework's own version in a stored run."""
    package = {"paddle": "paddlepaddle"}.get(name, name)
    return result["versions"][package]


def epoch_seconds(result: dict, model: str) -> float:
    """Mean seconds per epoch (training and test evaluation) of a stored run."""
    seconds = [epoch["seconds"] for epoch in result["models"][model]["epochs"]]
    return sum(seconds) / len(seconds)


def test_acc_range(results: dict[str, dict]) -> str:
    """'between a and b': the stored runs' lowest and highest test accuracy."""
    accs = [
        history(result, model).final.test_acc
        for result in results.values()
        for model in MODELS
    ]
    return f"between {min(accs):.3f} and {max(accs):.3f}"


def machine_phrase(results: dict[str, dict]) -> str:
    """Where and under what load the stored runs were made, in words."""
    machines = {
        (result["machine"]["cpu"], result["machine"]["cores"])
        for result in results.values()
    }
    where = " and ".join(f"{cores} cores of an {cpu}" for cpu, cores in machines)
    days = sorted({result["date"][:10] for result in results.values()})
    loads = [result["machine"]["load_average"][0] for result in results.values()]
    span = " to ".join(dict.fromkeys([days[0], days[-1]]))
    return (
        f"on {where} on {span}, with a one-minute load average of "
        f"{min(loads):.1f} to {max(loads):.1f} when each run ended"
    )


class _Text:
    """Plain text that notebooks and glue show as is, without quotes."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def comparison_markdown(results: dict[str, dict], pytorch: dict[str, Any]) -> str:
    """A Markdown table of final accuracies and epoch times per framework.

    `pytorch` holds this page's own PyTorch run: `version`, and per model a
    `History`.
    """
    header = (
        "| framework | version | model | train acc (dropout on) "
        "| test acc | s / epoch |\n| --- | --- | --- | ---: | ---: | ---: |\n"
    )
    rows = []
    entries = [("PyTorch", pytorch["version"], pytorch["histories"])]
    for name, result in results.items():
        entries.append(
            (
                FRAMEWORKS[name],
                version(result, name),
                {model: history(result, model) for model in MODELS},
            )
        )
    for framework, framework_version, histories in entries:
        for model, run in histories.items():
            seconds = sum(run.column("seconds")) / len(run)
            rows.append(
                f"| {framework} | {framework_version} | {model} "
                f"| {run.final.train_acc:.3f} | {run.final.test_acc:.3f} "
                f"| {seconds:.1f} |"
            )
    return header + "\n".join(rows)


_MODEL_KEYS = {"from scratch": "scratch", "concise": "concise"}
_MODEL_FIELDS = ("summary", "train_acc", "test_acc", "seconds", "curves")


def glue_names(model: str | None = None) -> set[str]:
    """The names `glue_demos` (no model) or `glue_framework_outputs` glue."""
    if model is None:
        return {f"fw_{name}_demo" for name in FRAMEWORKS}
    key = _MODEL_KEYS[model]
    return {
        f"fw_{name}_{key}_{field}" for name in FRAMEWORKS for field in _MODEL_FIELDS
    }


def glue_demos(results: dict[str, dict]) -> None:
    """Glue each framework's 2 x 8 demo output as `fw_<framework>_demo`."""
    for name, result in results.items():
        glue(f"fw_{name}_demo", _Text(demo_text(result)))


def glue_framework_outputs(results: dict[str, dict], model: str) -> None:
    """Glue each framework's outputs for one model's page.

    Names: `fw_<framework>_<key>_curves` (a figure), `..._train_acc`,
    `..._test_acc`, `..._seconds` (per epoch) and `..._summary` (the printed
    model), where <key> is `scratch` or `concise`.
    """
    key = _MODEL_KEYS[model]
    for name, result in results.items():
        run = history(result, model)
        prefix = f"fw_{name}"
        glue(f"{prefix}_{key}_summary", _Text(result["models"][model]["summary"]))
        glue(f"{prefix}_{key}_train_acc", run.final.train_acc)
        glue(f"{prefix}_{key}_test_acc", run.final.test_acc)
        glue(f"{prefix}_{key}_seconds", epoch_seconds(result, model))
        fig = Figure(figsize=(6, 3.6), dpi=100)
        plot_history(run, title=f"{FRAMEWORKS[name]}, {model}", figure=fig)
        glue(f"{prefix}_{key}_curves", fig)
