"""Shared fixtures and helpers for the unit tests and the book's tests."""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension

SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
ALL_FILES = tuple(name for pair in SPLIT_FILES.values() for name in pair)


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """The IDX encoding of a uint8 array: big-endian header, then the bytes."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    if magic is None:
        magic = 0x0800 + array.ndim
    header = struct.pack(f">{1 + array.ndim}i", magic, *array.shape)
    return header + array.tobytes()


def write_idx(
    path: Path, array: np.ndarray, *, magic: int | None = None, gz: bool = False
) -> Path:
    """Write `array` as an IDX file at `path` (gzipped when `gz` is True)."""
    data = idx_bytes(array, magic)
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(path, "wb") as handle:
            handle.write(data)
    else:
        path.write_bytes(data)
    return path


@dataclass
class TinyFashionMNIST:
    """A tiny fake Fashion-MNIST: the arrays, plus the bytes of each IDX file."""

    train_images: np.ndarray  # (N, 28, 28) uint8
    train_labels: np.ndarray  # (N,) uint8
    test_images: np.ndarray
    test_labels: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "train-images-idx3-ubyte": self.train_images,
            "train-labels-idx1-ubyte": self.train_labels,
            "t10k-images-idx3-ubyte": self.test_images,
            "t10k-labels-idx1-ubyte": self.test_labels,
        }

    def file_bytes(self) -> dict[str, bytes]:
        return {name: idx_bytes(array) for name, array in self.arrays().items()}

    def write_raw(self, root: Path) -> Path:
        """Write the unpacked files in torchvision's layout under `root`."""
        raw = root / "FashionMNIST" / "raw"
        for name, array in self.arrays().items():
            write_idx(raw / name, array)
        return raw

    def write_gz(self, folder: Path) -> Path:
        """Write `<name>.gz` files into `folder`, like the Debian package."""
        for name, array in self.arrays().items():
            write_idx(folder / f"{name}.gz", array, gz=True)
        return folder


def make_tiny_fashion_mnist(
    num_train: int = 12, num_test: int = 7, seed: int = 0
) -> TinyFashionMNIST:
    rng = np.random.default_rng(seed)

    def images(n: int) -> np.ndarray:
        array = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        # Make sure the extremes occur, so that the [0, 1] scaling is visible.
        array[0, 0, 0] = 0
        array[0, 0, 1] = 255
        return array

    def labels(n: int) -> np.ndarray:
        return (np.arange(n) * 7 + 3).astype(np.uint8) % 10

    return TinyFashionMNIST(
        images(num_train), labels(num_train), images(num_test), labels(num_test)
    )


@pytest.fixture
def tiny_data() -> TinyFashionMNIST:
    return make_tiny_fashion_mnist()


@pytest.fixture
def raw_root(tmp_path: Path, tiny_data: TinyFashionMNIST) -> Path:
    """A data root that already holds the four files in torchvision's layout."""
    root = tmp_path / "data"
    tiny_data.write_raw(root)
    return root


@pytest.fixture
def system_dir(tmp_path: Path, tiny_data: TinyFashionMNIST) -> Path:
    """A fake system folder (like /usr/share/datasets/fashion-mnist) of .gz files."""
    return tiny_data.write_gz(tmp_path / "system")


@pytest.fixture
def empty_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "empty-system"
    folder.mkdir()
    return folder


def files_under(folder: Path) -> list[str]:
    """Every file below `folder` (hidden ones included), as relative paths."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def region_dataset(
    num_examples: int, *, num_classes: int = 4, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """A learnable toy task: the class is which quadrant of the image is bright.

    Returns images (N, 1, 28, 28) float32 in [0, 1] and labels (N,) int64.
    """
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, num_classes, (num_examples,), generator=generator)
    images = 0.2 * torch.rand(num_examples, 1, 28, 28, generator=generator)
    for cls in range(num_classes):
        row, col = divmod(cls, 2)
        rows = slice(14 * row, 14 * row + 14)
        cols = slice(14 * col, 14 * col + 14)
        images[labels == cls, :, rows, cols] += 0.8
    return images, labels


@pytest.fixture
def make_batches() -> Callable[..., tuple]:
    """Factory for fresh (train_iter, test_iter) pairs on the toy task."""
    from dropout_utils import TensorBatches

    def factory(
        *, num_train: int = 512, num_test: int = 256, batch_size: int = 64, seed=0
    ):
        X_train, y_train = region_dataset(num_train, seed=seed)
        X_test, y_test = region_dataset(num_test, seed=seed + 1)
        train_iter = TensorBatches(
            X_train,
            y_train,
            batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(seed),
        )
        test_iter = TensorBatches(X_test, y_test, batch_size)
        return train_iter, test_iter

    return factory


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """The tensors here are small: threading costs more than it saves.

    On a shared two-core machine OpenMP threads spin against each other and a
    64 x 784 matrix product gets tens of times slower than on one thread.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _close_pyplot_figures():
    """Tests must not leave pyplot figures behind (or see earlier ones)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close("all")
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The book built once per test session into an empty folder.

    Nothing is reused from an earlier build (execution included), and every
    test that reads pages (tests/test_book.py, tests/test_site.py) shares it.
    Returns the build's `_build` folder. To rerun the page tests against a
    build you already have, set DROPOUT_BOOK_BUILD to its `_build` folder.
    """
    reuse = os.environ.get("DROPOUT_BOOK_BUILD")
    if reuse:
        return Path(reuse).resolve()
    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("book")
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "jupyter-book"),
            "build",
            str(root),
            "--path-output",
            str(out),
            "-W",
            "-n",
            "--keep-going",
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    build = out / "_build"
    reports = build / "html" / "reports"
    details = ""
    if reports.is_dir():
        details = "\n".join(p.read_text() for p in reports.glob("**/*.log"))
    assert result.returncode == 0, (
        f"book build failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
        f"\n{details}"
    )
    return build
