"""Shared plumbing for the other frameworks' runs: data, timing, results.

Only NumPy and the standard library: each framework's environment has its own
NumPy and none of them has PyTorch, so Fashion-MNIST is read straight from
the IDX files that `python -m dropout_utils data` prepared.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
RESULTS_DIR = ROOT / "results"
FRAMEWORKS = ("tensorflow", "paddle", "mindspore", "mxnet")

#: The chapter's hyper-parameters, shared by every framework.
NUM_EPOCHS, LR, BATCH_SIZE = 10, 0.5, 256
DROPOUT1, DROPOUT2 = 0.2, 0.5
DEMO_PROBS = (0.0, 0.5, 1.0)

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def data_dir() -> Path:
    """Where `python -m dropout_utils data` leaves the unpacked IDX files."""
    if os.environ.get("FASHION_MNIST_ROOT"):
        root = Path(os.environ["FASHION_MNIST_ROOT"]).expanduser()
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        root = Path(cache) / "dropout-book"
    return root / "FashionMNIST" / "raw"


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (unsigned bytes) into an array of its shape."""
    raw = path.read_bytes()
    # The header: two zero bytes, a type code (8 = unsigned byte), the number
    # of dimensions, then one big-endian 32-bit size per dimension.
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != 8:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    shape = tuple(np.frombuffer(raw, ">u4", count=ndim, offset=4).astype(int))
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path} is truncated: expected shape {shape}")
    return data.reshape(shape)


@dataclass
class FashionMNIST:
    """Images as float32 rows of 784 pixels in [0, 1], labels as int64."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def load_fashion_mnist() -> FashionMNIST:
    """Load the four IDX files, or say how to prepare them."""
    folder = data_dir()
    missing = [
        name for name in IDX_FILES.values() if not (folder / name).is_file()
    ]
    if missing:
        raise FileNotFoundError(
            f"Fashion-MNIST files {missing} are missing in {folder}; prepare "
            "them with `.venv/bin/python -m dropout_utils data` (or set "
            "FASHION_MNIST_ROOT to a folder holding FashionMNIST/raw/)"
        )
    arrays = {key: read_idx(folder / name) for key, name in IDX_FILES.items()}
    return FashionMNIST(
        train_images=(arrays["train_images"].reshape(-1, 784) / 255).astype(
            np.float32
        ),
        train_labels=arrays["train_labels"].astype(np.int64),
        test_images=(arrays["test_images"].reshape(-1, 784) / 255).astype(
            np.float32
        ),
        test_labels=arrays["test_labels"].astype(np.int64),
    )


def batches(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    rng: np.random.Generator | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Minibatches, in a fresh random order when `rng` is given."""
    order = (
        np.arange(len(images)) if rng is None else rng.permutation(len(images))
    )
    for start in range(0, len(images), batch_size):
        index = order[start : start + batch_size]
        yield images[index], labels[index]


@dataclass
class Epoch:
    """One epoch: training loss and accuracy (dropout on), test accuracy."""

    train_loss: float
    train_acc: float
    test_acc: float
    seconds: float


@dataclass
class Run:
    """A framework's whole run, as stored in `results/<framework>.json`."""

    framework: str
    seed: int
    num_epochs: int = NUM_EPOCHS
    demo: dict[str, dict] = field(default_factory=dict)
    models: dict[str, dict] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    def add_demo(
        self, drop_prob: float, text: str, values: np.ndarray
    ) -> None:
        """Record the printed output and the values of one dropout demo."""
        self.demo[str(drop_prob)] = {
            "text": text.strip("\n"),
            "values": np.asarray(values, dtype=float).tolist(),
        }

    def add_model(self, name: str, summary: str, epochs: list[Epoch]) -> None:
        """Record a trained model: its printed summary and its history."""
        self.models[name] = {
            "summary": summary,
            "epochs": [vars(epoch) for epoch in epochs],
        }


def train_epochs(
    train_step: Callable[[np.ndarray, np.ndarray], tuple[float, float]],
    test_accuracy: Callable[[np.ndarray, np.ndarray], float],
    data: FashionMNIST,
    num_epochs: int,
    batch_size: int,
    seed: int,
    name: str,
) -> list[Epoch]:
    """The loop every framework shares: it only brings its step and its test.

    `train_step(X, y)` updates the model on one minibatch (dropout on) and
    returns the summed loss and the number of correct predictions;
    `test_accuracy(X, y)` returns the accuracy on one batch with dropout off.
    """
    rng = np.random.default_rng(seed)  # the order of the minibatches
    epochs = []
    for epoch in range(num_epochs):
        start = time.perf_counter()
        loss_sum = correct = 0.0
        for X, y in batches(
            data.train_images, data.train_labels, batch_size, rng
        ):
            batch_loss, batch_correct = train_step(X, y)
            loss_sum += batch_loss
            correct += batch_correct
        num_train = len(data.train_labels)
        test_correct = sum(
            test_accuracy(X, y) * len(y)
            for X, y in batches(data.test_images, data.test_labels, 1000)
        )
        epochs.append(
            Epoch(
                train_loss=loss_sum / num_train,
                train_acc=correct / num_train,
                test_acc=test_correct / len(data.test_labels),
                seconds=time.perf_counter() - start,
            )
        )
        last = epochs[-1]
        print(
            f"{name}: epoch {epoch + 1}/{num_epochs} "
            f"loss {last.train_loss:.3f} train acc {last.train_acc:.3f} "
            f"test acc {last.test_acc:.3f} ({last.seconds:.1f} s)",
            flush=True,
        )
    return epochs


def source_digest(framework: str) -> str:
    """A hash of the code behind a run: tells when stored results are stale."""
    digest = hashlib.sha256()
    paths = [ROOT / framework / "model.py", ROOT / framework / "run.py"]
    paths.append(Path(__file__))
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def write_results(run: Run, out_dir: Path) -> Path:
    """Write the run to `out_dir/<framework>.json` atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{run.framework}.json"
    record = {
        "framework": run.framework,
        "versions": {"python": platform.python_version(), **run.versions},
        "seed": run.seed,
        "settings": {
            "num_epochs": run.num_epochs,
            "lr": LR,
            "batch_size": BATCH_SIZE,
            "dropout1": DROPOUT1,
            "dropout2": DROPOUT2,
        },
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "machine": {
            "cpu": _cpu_name(),
            "cores": os.cpu_count(),
            "load_average": [round(load, 2) for load in os.getloadavg()],
        },
        "source_digest": source_digest(run.framework),
        "demo": run.demo,
        "models": run.models,
    }
    # Write next to the target and rename: never a half-written file.
    fd, tmp_name = tempfile.mkstemp(dir=out_dir, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w") as file:
            json.dump(record, file, indent=1)
            file.write("\n")
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def parse_args(framework: str) -> argparse.Namespace:
    """The command line every `run.py` shares."""
    parser = argparse.ArgumentParser(
        description=f"Run the chapter's dropout code in {framework} and store "
        "its outputs and training history as JSON."
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS_DIR,
        help="folder for <framework>.json (default: frameworks/results)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument(
        "--epochs",
        type=int,
        default=NUM_EPOCHS,
        help=f"training epochs per model (default: {NUM_EPOCHS})",
    )
    args = parser.parse_args()
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    return args
