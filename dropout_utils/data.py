"""Fashion-MNIST: find or prepare the files, hold them in memory, batch them."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import logging
import numbers
import os
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

logger = logging.getLogger(__name__)

#: Environment variable naming the folder that holds (or will hold) the data.
DATA_ENV_VAR = "FASHION_MNIST_ROOT"

#: Where Debian's and Ubuntu's package `dataset-fashion-mnist` puts the files.
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

#: MD5 sums of the four *unpacked* IDX files of the original release.
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}

TEXT_LABELS = (
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)


class FashionMNISTError(RuntimeError):
    """The Fashion-MNIST files are missing, incomplete or corrupt."""


def default_root() -> Path:
    """The data folder: `$FASHION_MNIST_ROOT`, else a per-user cache folder."""
    if os.environ.get(DATA_ENV_VAR):
        return Path(os.environ[DATA_ENV_VAR]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "dropout-book"


def raw_dir(root: str | os.PathLike) -> Path:
    """The folder where torchvision expects the unpacked IDX files."""
    return Path(root) / "FashionMNIST" / "raw"


def _is_complete(root: Path) -> bool:
    return all((raw_dir(root) / name).is_file() for name in FASHION_MNIST_MD5)


def _unpack_checked(source: Path, target: Path, md5: str | None) -> None:
    """Gunzip `source` into `target` atomically, checking the MD5 on the way."""
    digest = hashlib.md5()
    # Write next to the target and rename at the end: an interrupted or
    # failed unpack leaves no half-written file under the final name.
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        try:
            with gzip.open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
                while chunk := src.read(1 << 20):
                    digest.update(chunk)
                    dst.write(chunk)
        except (OSError, EOFError, zlib.error) as error:
            raise FashionMNISTError(
                f"could not unpack {source} ({error}): the file is truncated "
                "or corrupt. Reinstall the package (apt-get install "
                f"--reinstall dataset-fashion-mnist) or set {DATA_ENV_VAR}."
            ) from error
        if md5 is not None and digest.hexdigest() != md5:
            raise FashionMNISTError(
                f"{source} unpacks to data with MD5 {digest.hexdigest()}, "
                f"expected {md5}: the file is corrupt or not Fashion-MNIST. "
                "Reinstall the package (apt-get install --reinstall "
                "dataset-fashion-mnist) or point FASHION_MNIST_ROOT at a good copy."
            )
        os.chmod(tmp_name, 0o644)  # mkstemp creates files readable by us only
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def unpack_system_copy(
    root: Path,
    source_dir: Path = DEBIAN_DIR,
    checksums: dict[str, str | None] | None = FASHION_MNIST_MD5,
) -> bool:
    """Unpack the gzipped IDX files of `source_dir` into `root`'s raw folder.

    Each file is checked against `checksums` (None: no check) on the way.
    Returns False (and writes nothing) when `source_dir` lacks any of the files.
    """
    checksums = {} if checksums is None else checksums
    sources = {name: source_dir / f"{name}.gz" for name in FASHION_MNIST_MD5}
    if not all(path.is_file() for path in sources.values()):
        return False
    target_dir = raw_dir(root)
    target_dir.mkdir(parents=True, exist_ok=True)
    for name, source in sources.items():
        target = target_dir / name
        if not target.is_file():
            logger.info("unpacking %s into %s", source, target_dir)
            _unpack_checked(source, target, checksums.get(name))
    return True


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verify_files(root: Path, checksums: dict[str, str | None] | None) -> None:
    """Check the four files in `root` against `checksums` (None: no check).

    A successful check is remembered in a small stamp file keyed by each
    file's size and modification time, so later loads skip the hashing.
    """
    if checksums is None:
        return
    folder = raw_dir(root)
    signature = {
        name: [(folder / name).stat().st_size, (folder / name).stat().st_mtime_ns]
        for name in checksums
    }
    stamp = folder / ".verified.json"
    with contextlib.suppress(OSError, ValueError):
        if json.loads(stamp.read_text()) == signature:
            return
    for name, expected in checksums.items():
        if expected is not None and _md5(folder / name) != expected:
            raise FashionMNISTError(
                f"{folder / name} is not the original Fashion-MNIST file (its "
                "MD5 sum differs): it is truncated, corrupt or from another "
                f"data set. Delete {folder} and run again to unpack or "
                "download a fresh copy."
            )
    with contextlib.suppress(OSError):  # a read-only folder: check next time
        stamp.write_text(json.dumps(signature))


def _download(root: Path) -> None:
    """Download through torchvision into a scratch folder, then move into place."""
    from torchvision.datasets import FashionMNIST

    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".download-") as scratch:
        for train in (True, False):
            FashionMNIST(scratch, train=train, download=True)
        target_dir = raw_dir(root)
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in FASHION_MNIST_MD5:
            os.replace(raw_dir(scratch) / name, target_dir / name)


def _download_reason(error: Exception) -> str:
    """A failed download in one line: what failed and the last mirror's reason.

    torchvision reports "Error downloading <file>:" and then, for each mirror,
    "Tried <mirror>, got:" followed by that mirror's error on its own line.
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    reasons = [line for line in lines[1:] if not line.startswith("Tried ")]
    return lines[0] + (" " + reasons[-1] if reasons else "")


def prepare_fashion_mnist(
    root: str | os.PathLike | None = None,
    *,
    download: bool = True,
    system_dir: Path | None = None,
    checksums: dict[str, str | None] | None = FASHION_MNIST_MD5,
) -> Path:
    """Make sure the four Fashion-MNIST files are in `root`, and return `root`.

    Looks in this order: `root` (default: `$FASHION_MNIST_ROOT`, else
    `~/.cache/dropout-book`) in torchvision's layout `root/FashionMNIST/raw/`;
    the Debian/Ubuntu package `dataset-fashion-mnist` (`system_dir`, default
    `DEBIAN_DIR`), unpacked into `root`;
    torchvision's download. Files are checked against the original MD5 sums
    (`checksums`; None skips the check, for data other than the original).

    Raises:
        FashionMNISTError: when none of these works, or the files are corrupt;
            the message says what to do.
    """
    root = default_root() if root is None else Path(root).expanduser()
    system_dir = DEBIAN_DIR if system_dir is None else system_dir
    try:
        if _is_complete(root):
            verify_files(root, checksums)
            return root
        if unpack_system_copy(root, system_dir, checksums=checksums):
            return root
    except OSError as error:
        raise FashionMNISTError(
            f"cannot use {root} as the Fashion-MNIST folder ({error}); "
            f"point {DATA_ENV_VAR} at a folder you can write to"
        ) from error

    download_error: Exception | None = None
    if download:
        try:
            _download(root)
            verify_files(root, checksums)
            return root
        except FashionMNISTError:
            raise
        except Exception as error:  # any failure: report it with the remedies
            download_error = error

    if download_error is not None:
        last_remedy = f"  * the download failed: {_download_reason(download_error)}"
    else:
        last_remedy = "  * with internet access: allow the download (download=True)"
    raise FashionMNISTError(
        f"Fashion-MNIST was not found in {raw_dir(root)}. Remedies:\n"
        "  * on Debian or Ubuntu: sudo apt-get install dataset-fashion-mnist\n"
        "  * without root: put the four unpacked files train-images-idx3-ubyte,\n"
        "    train-labels-idx1-ubyte, t10k-images-idx3-ubyte and\n"
        "    t10k-labels-idx1-ubyte into <folder>/FashionMNIST/raw/ and set\n"
        f"    {DATA_ENV_VAR}=<folder> (or pass root=<folder>)\n" + last_remedy
    )


@dataclass(frozen=True)
class FashionMNIST:
    """Both splits held in memory: images as float32 in [0, 1], labels as int64."""

    train_images: torch.Tensor  # (60000, 1, 28, 28)
    train_labels: torch.Tensor  # (60000,)
    test_images: torch.Tensor  # (10000, 1, 28, 28)
    test_labels: torch.Tensor  # (10000,)


def _read_split(root: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    from torchvision.datasets import FashionMNIST as TorchvisionFashionMNIST

    try:
        dataset = TorchvisionFashionMNIST(root, train=train, download=False)
        images, labels = dataset.data, dataset.targets
    except Exception as error:
        raise FashionMNISTError(
            f"could not read the Fashion-MNIST files in {raw_dir(root)} "
            f"({error}). They may be truncated or corrupt: delete that folder "
            "and run again to unpack or download a fresh copy."
        ) from error

    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise FashionMNISTError(
            f"images in {raw_dir(root)} have shape {tuple(images.shape)}, "
            "expected (N, 28, 28): delete that folder and run again."
        )
    if len(images) != len(labels) or (len(labels) and labels.max() > 9):
        raise FashionMNISTError(
            f"labels in {raw_dir(root)} do not match the images "
            f"({len(labels)} labels for {len(images)} images, or a label "
            "outside 0-9): delete that folder and run again."
        )
    # (N, 28, 28) uint8 -> (N, 1, 28, 28) float32 in [0, 1], once, up front,
    # so that a batch is a slice of memory rather than 256 decoded images.
    images = images.unsqueeze(1).to(torch.float32).div_(255)
    return images, labels.to(torch.int64)


def load_fashion_mnist(
    root: str | os.PathLike | None = None,
    *,
    download: bool = True,
    checksums: dict[str, str | None] | None = FASHION_MNIST_MD5,
) -> FashionMNIST:
    """Find (see `prepare_fashion_mnist`) and load both splits into memory."""
    root = prepare_fashion_mnist(root, download=download, checksums=checksums)
    train_images, train_labels = _read_split(root, train=True)
    test_images, test_labels = _read_split(root, train=False)
    return FashionMNIST(train_images, train_labels, test_images, test_labels)


class TensorBatches:
    """Mini-batches of in-memory tensors, reshuffled on every pass.

    Iterating yields `(X, y)` pairs by indexing, which is far cheaper than a
    `DataLoader` that collates one sample at a time.
    """

    def __init__(
        self,
        features: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int,
        *,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        if len(features) != len(labels):
            raise ValueError(
                f"features and labels differ in length: "
                f"{len(features)} != {len(labels)}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int):
            raise TypeError(f"batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.features = features
        self.labels = labels
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self) -> int:
        return -(-len(self.labels) // self.batch_size)

    @property
    def num_examples(self) -> int:
        return len(self.labels)

    def to(self, device: torch.device | str) -> TensorBatches:
        """The same batches with the data moved to `device` once, up front."""
        return TensorBatches(
            self.features.to(device),
            self.labels.to(device),
            self.batch_size,
            shuffle=self.shuffle,
            generator=self.generator,
        )

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        num_examples = len(self.labels)
        if not self.shuffle:
            for start in range(0, num_examples, self.batch_size):
                stop = start + self.batch_size
                yield self.features[start:stop], self.labels[start:stop]
            return
        order = torch.randperm(num_examples, generator=self.generator)
        order = order.to(self.labels.device)
        for start in range(0, num_examples, self.batch_size):
            batch = order[start : start + self.batch_size]
            # index_select copies the rows in one call; it is about twice as
            # fast as the equivalent `features[batch]` on the CPU.
            yield (
                self.features.index_select(0, batch),
                self.labels.index_select(0, batch),
            )


#: The seeds `torch.manual_seed` and `torch.Generator.manual_seed` accept.
SEED_RANGE = (-(2**63), 2**64 - 1)


def check_seed(seed: object) -> None:
    """Raise a ValueError that says what is wrong unless torch takes `seed`."""
    low, high = SEED_RANGE
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed must be a whole number, got {seed!r}")
    if not low <= seed <= high:
        raise ValueError(
            f"seed must be between -2**63 and 2**64 - 1 (what torch.manual_seed "
            f"accepts), got {seed}; pick a smaller seed, for example 0"
        )


def fashion_mnist_batches(
    batch_size: int,
    *,
    data: FashionMNIST | None = None,
    root: str | os.PathLike | None = None,
    seed: int = 0,
) -> tuple[TensorBatches, TensorBatches]:
    """Training batches (shuffled with `seed`) and test batches (in order)."""
    check_seed(seed)
    data = load_fashion_mnist(root) if data is None else data
    generator = torch.Generator().manual_seed(seed)
    train_iter = TensorBatches(
        data.train_images,
        data.train_labels,
        batch_size,
        shuffle=True,
        generator=generator,
    )
    test_iter = TensorBatches(data.test_images, data.test_labels, batch_size)
    return train_iter, test_iter


def text_labels(labels: Sequence[int] | torch.Tensor) -> list[str]:
    """Class names for numeric Fashion-MNIST labels (0 to 9)."""
    names = []
    for label in labels:
        index = int(label)
        # Guard explicitly: a negative index would silently wrap around.
        if not 0 <= index < len(TEXT_LABELS):
            raise ValueError(f"Fashion-MNIST labels are 0 to 9, got {index}")
        names.append(TEXT_LABELS[index])
    return names


def main(argv: list[str] | None = None) -> None:
    """Prepare the files and say where they are (`python -m dropout_utils data`)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m dropout_utils data",
        description="Find, unpack and check Fashion-MNIST; print where it is.",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help=f"data folder (default: ${DATA_ENV_VAR} or ~/.cache/dropout-book)",
    )
    parser.add_argument(
        "--no-download", action="store_true", help="never try to download"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        root = prepare_fashion_mnist(args.root, download=not args.no_download)
    except FashionMNISTError as error:
        raise SystemExit(f"error: {error}") from None
    logger.info("Fashion-MNIST is ready in %s", raw_dir(root))
