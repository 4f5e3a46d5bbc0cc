"""A resumable sweep over the two dropout probabilities, saved as JSON.

Run it as `python -m dropout_utils.sweep` (see `--help`). Each finished run is
written to the file at once, atomically, so an interrupted sweep loses at most
the run in progress and picks up where it stopped when started again.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import itertools
import json
import logging
import os
import platform
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from .data import FashionMNIST, TensorBatches, fashion_mnist_batches, load_fashion_mnist
from .models import DropoutMLP
from .training import TrainConfig, evaluate_accuracy, train

logger = logging.getLogger(__name__)

#: The file in the repository that the book's explorer page reads.
DEFAULT_PATH = Path(__file__).resolve().parents[1] / "results" / "sweep.json"

SCHEMA_VERSION = 1
GRID = tuple(round(0.1 * i, 1) for i in range(10))  # 0.0, 0.1, ..., 0.9


@dataclass(frozen=True)
class SweepSettings:
    """Everything that, besides p1 and p2, decides a run's result."""

    num_epochs: int = 10
    lr: float = 0.5
    batch_size: int = 256
    seed: int = 0  # the same seed for every setting: common random numbers
    grid: tuple[float, ...] = GRID
    # PyTorch CPU threads while training. One thread gives the same numbers
    # bit for bit whatever else the machine is doing; with several, a busy
    # machine can change how the work is split and with it the rounding.
    threads: int = 1


@dataclass
class SweepRun:
    """One finished training run of the sweep."""

    p1: float
    p2: float
    seed: int
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)  # dropout on
    test_acc: list[float] = field(default_factory=list)
    final_clean_train_acc: float = 0.0  # after the last epoch, dropout off
    seconds: float = 0.0


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("torch", "torchvision"):
        versions[package] = importlib.metadata.version(package)
    return versions


def run_setting(
    p1: float, p2: float, settings: SweepSettings, data: FashionMNIST
) -> SweepRun:
    """Train the chapter's model once with dropout probabilities (p1, p2)."""
    start = time.perf_counter()
    threads_before = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        return _run_setting(p1, p2, settings, data, start)
    finally:
        torch.set_num_threads(threads_before)


def _run_setting(
    p1: float, p2: float, settings: SweepSettings, data: FashionMNIST, start: float
) -> SweepRun:
    train_iter, test_iter = fashion_mnist_batches(
        settings.batch_size, data=data, seed=settings.seed
    )
    torch.manual_seed(settings.seed)
    net = DropoutMLP(dropout1=p1, dropout2=p2)
    config = TrainConfig(
        num_epochs=settings.num_epochs,
        lr=settings.lr,
        seed=settings.seed,
        device="cpu",  # results must be comparable across machines
    )
    history = train(net, train_iter, test_iter, config)
    if history.interrupted:
        raise KeyboardInterrupt
    train_eval = TensorBatches(data.train_images, data.train_labels, 1000)
    return SweepRun(
        p1=p1,
        p2=p2,
        seed=settings.seed,
        train_loss=history.column("train_loss"),
        train_acc=history.column("train_acc"),
        test_acc=history.column("test_acc"),
        final_clean_train_acc=evaluate_accuracy(net, train_eval, "cpu"),
        seconds=time.perf_counter() - start,
    )


def write_json_atomically(path: Path, payload: dict) -> None:
    """Write to a temporary file beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as file:
            json.dump(payload, file, indent=1)
            file.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_sweep(path: Path) -> dict:
    """Read a sweep file and check its schema; raise ValueError if it is off."""
    try:
        payload = json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path} is not valid JSON ({error}); delete it to start the sweep over"
        ) from error
    if payload.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(
            f"{path} has schema version {payload.get('schema_version')!r}, "
            f"expected {SCHEMA_VERSION}; regenerate it with "
            "`python -m dropout_utils.sweep --fresh`"
        )
    for key in ("settings", "versions", "runs"):
        if key not in payload:
            raise ValueError(f"{path} lacks the key {key!r}")
    return payload


def run_sweep(
    path: Path,
    data: FashionMNIST,
    settings: SweepSettings | None = None,
    *,
    fresh: bool = False,
    progress: bool = True,
) -> dict:
    """Run every (p1, p2) setting not yet in `path`, saving after each run."""
    settings = SweepSettings() if settings is None else settings
    expected_settings = asdict(settings) | {"grid": list(settings.grid)}
    payload = None
    if path.exists() and not fresh:
        payload = load_sweep(path)
        if payload["settings"] != expected_settings:
            raise ValueError(
                f"{path} was made with other settings ({payload['settings']}); "
                "pass --fresh to start over with the current ones"
            )
    if payload is None:
        payload = {
            "schema_version": SCHEMA_VERSION,
            "description": "Final and per-epoch metrics of the chapter's MLP "
            "(784-256-256-10) on Fashion-MNIST for dropout probabilities p1 "
            "(first hidden layer) and p2 (second) on a grid.",
            "settings": expected_settings,
            "versions": library_versions(),
            "runs": [],
        }

    done = {(run["p1"], run["p2"]) for run in payload["runs"]}
    todo = [
        (p1, p2)
        for p1, p2 in itertools.product(settings.grid, settings.grid)
        if (p1, p2) not in done
    ]
    logger.info("%d of %d settings already done", len(done), len(done) + len(todo))

    from tqdm.auto import tqdm

    for p1, p2 in tqdm(todo, desc="sweep", unit="run", disable=not progress):
        run = run_setting(p1, p2, settings, data)
        payload["runs"].append(asdict(run))
        payload["versions"] = library_versions()
        write_json_atomically(path, payload)
    return payload


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Train the chapter's model for every (p1, p2) on a grid "
        "and save the curves. Interrupt with Ctrl-C at any time; run the same "
        "command again to resume."
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_PATH, help="the JSON file to fill"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="ignore finished runs and start over"
    )
    parser.add_argument("--epochs", type=int, default=10, help="epochs per run")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="PyTorch CPU threads per run (default 1: the same numbers on a "
        "busy machine; more threads are faster but may round differently "
        "under load)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    settings = SweepSettings(num_epochs=args.epochs, threads=args.threads)
    try:
        payload = run_sweep(
            args.output, load_fashion_mnist(), settings, fresh=args.fresh
        )
    except KeyboardInterrupt:
        raise SystemExit(
            f"\ninterrupted: finished runs are saved in {args.output}; "
            "run the same command again to resume"
        ) from None
    logger.info("%d runs saved in %s", len(payload["runs"]), args.output)


if __name__ == "__main__":
    main()
