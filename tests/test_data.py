"""Finding, unpacking, loading and batching Fashion-MNIST (tiny fake files)."""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ALL_FILES, files_under, idx_bytes, make_tiny_fashion_mnist
from conftest import write_idx as write_idx_file

import dropout_utils.data
from dropout_utils import (
    FashionMNIST,
    FashionMNISTError,
    TensorBatches,
    fashion_mnist_batches,
    load_fashion_mnist,
    prepare_fashion_mnist,
    text_labels,
)
from dropout_utils import data as data_module
from dropout_utils.data import (
    DATA_ENV_VAR,
    FASHION_MNIST_MD5,
    TEXT_LABELS,
    default_root,
    raw_dir,
    unpack_system_copy,
)

#: The real download step, before `_no_network` replaces it in every test.
REAL_DOWNLOAD = data_module._download


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Any attempt to download fails the test instead of reaching the network."""

    def refuse(root):
        raise AssertionError(f"a test tried to download into {root}")

    monkeypatch.setattr(data_module, "_download", refuse)


@pytest.fixture
def no_env_root(monkeypatch):
    monkeypatch.delenv(DATA_ENV_VAR, raising=False)


def snapshot(folder):
    """File name -> bytes, for every file below `folder`."""
    return {name: (folder / name).read_bytes() for name in files_under(folder)}


# --------------------------------------------------------------------------
# Test-helper sanity: the IDX writer produces what torchvision expects
# --------------------------------------------------------------------------


def test_idx_writer_header_is_big_endian():
    data = idx_bytes(np.zeros((2, 28, 28), dtype=np.uint8))
    assert data[:4] == b"\x00\x00\x08\x03"  # 2051
    assert int.from_bytes(data[4:8], "big") == 2
    assert int.from_bytes(data[8:12], "big") == 28
    assert len(data) == 16 + 2 * 28 * 28
    labels = idx_bytes(np.arange(5, dtype=np.uint8))
    assert int.from_bytes(labels[:4], "big") == 2049
    assert int.from_bytes(labels[4:8], "big") == 5


# --------------------------------------------------------------------------
# Where the data is looked for
# --------------------------------------------------------------------------


def test_raw_dir_is_torchvision_layout(tmp_path):
    assert raw_dir(tmp_path) == tmp_path / "FashionMNIST" / "raw"
    assert raw_dir(str(tmp_path)) == tmp_path / "FashionMNIST" / "raw"


def test_default_root_uses_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_ENV_VAR, str(tmp_path / "mine"))
    assert default_root() == tmp_path / "mine"


def test_default_root_expands_user(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(DATA_ENV_VAR, "~/fmnist")
    assert default_root() == tmp_path / "fmnist"


def test_default_root_falls_back_to_cache(monkeypatch, tmp_path, no_env_root):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_root() == tmp_path / "cache" / "dropout-book"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_root() == tmp_path / "home" / ".cache" / "dropout-book"


def test_empty_env_var_is_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_ENV_VAR, "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_root() == tmp_path / "dropout-book"


def test_prepare_with_explicit_root_in_place(raw_root, system_dir):
    before = snapshot(raw_root)
    result = prepare_fashion_mnist(
        raw_root, download=False, system_dir=system_dir, checksums=None
    )
    assert result == raw_root
    # Nothing copied, nothing rewritten, nothing added.
    assert snapshot(raw_root) == before


def test_prepare_accepts_str_root(raw_root, empty_dir):
    result = prepare_fashion_mnist(
        str(raw_root), download=False, system_dir=empty_dir, checksums=None
    )
    assert result == raw_root


def test_prepare_finds_root_through_env_var(monkeypatch, raw_root, empty_dir):
    monkeypatch.setenv(DATA_ENV_VAR, str(raw_root))
    result = prepare_fashion_mnist(download=False, system_dir=empty_dir, checksums=None)
    assert result == raw_root


def test_load_through_env_var(monkeypatch, raw_root, tiny_data):
    monkeypatch.setenv(DATA_ENV_VAR, str(raw_root))
    data = load_fashion_mnist(download=False, checksums=None)
    assert torch.equal(data.test_labels, torch.from_numpy(tiny_data.test_labels).long())


# --------------------------------------------------------------------------
# Unpacking a system copy (the Debian package's .gz files)
# --------------------------------------------------------------------------


def test_unpack_system_copy_happy_path(tmp_path, system_dir, tiny_data):
    root = tmp_path / "root"
    unchecked = dict.fromkeys(FASHION_MNIST_MD5)
    assert unpack_system_copy(root, system_dir, checksums=unchecked) is True
    raw = raw_dir(root)
    assert files_under(raw) == sorted(ALL_FILES)
    for name, expected in tiny_data.file_bytes().items():
        assert (raw / name).read_bytes() == expected
        # Readable by everyone, like a normal file (mkstemp makes it 0600).
        assert stat.S_IMODE(os.stat(raw / name).st_mode) == 0o644


def test_unpack_system_copy_with_matching_checksums(tmp_path, system_dir, tiny_data):
    sums = {
        name: hashlib.md5(data).hexdigest()
        for name, data in tiny_data.file_bytes().items()
    }
    root = tmp_path / "root"
    assert unpack_system_copy(root, system_dir, checksums=sums) is True
    assert files_under(raw_dir(root)) == sorted(ALL_FILES)


def test_unpack_system_copy_keeps_files_already_there(tmp_path, system_dir):
    root = tmp_path / "root"
    raw = raw_dir(root)
    raw.mkdir(parents=True)
    (raw / "train-labels-idx1-ubyte").write_bytes(b"already here")
    unchecked = dict.fromkeys(FASHION_MNIST_MD5)
    assert unpack_system_copy(root, system_dir, checksums=unchecked)
    assert (raw / "train-labels-idx1-ubyte").read_bytes() == b"already here"
    assert files_under(raw) == sorted(ALL_FILES)


def test_md5_mismatch_raises_and_leaves_no_file(tmp_path, system_dir):
    root = tmp_path / "root"
    with pytest.raises(FashionMNISTError, match="MD5") as info:
        unpack_system_copy(root, system_dir, checksums=FASHION_MNIST_MD5)
    message = str(info.value)
    assert "dataset-fashion-mnist" in message
    assert DATA_ENV_VAR in message
    # No file at all, hidden temporary files included.
    assert files_under(root) == []
    if raw_dir(root).exists():
        assert os.listdir(raw_dir(root)) == []


def test_md5_mismatch_on_a_later_file_leaves_no_partial_or_temp_file(
    tmp_path, system_dir
):
    root = tmp_path / "root"
    sums = dict.fromkeys(FASHION_MNIST_MD5)
    sums["t10k-images-idx3-ubyte"] = "0" * 32
    with pytest.raises(FashionMNISTError, match="0" * 32):
        unpack_system_copy(root, system_dir, checksums=sums)
    names = os.listdir(raw_dir(root))
    assert "t10k-images-idx3-ubyte" not in names
    assert not [name for name in names if name.startswith(".")]


def test_prepare_rejects_tiny_files_with_the_real_md5(tmp_path, system_dir):
    root = tmp_path / "root"
    with pytest.raises(FashionMNISTError, match="MD5"):
        prepare_fashion_mnist(root, download=False, system_dir=system_dir)
    assert files_under(root) == []


def test_prepare_unpacks_system_copy_when_checksums_match(
    monkeypatch, tmp_path, system_dir, tiny_data
):
    """The whole path: nothing in root -> unpacked from the system folder."""
    sums = {
        name: hashlib.md5(data).hexdigest()
        for name, data in tiny_data.file_bytes().items()
    }
    monkeypatch.setattr(data_module, "FASHION_MNIST_MD5", sums)
    root = tmp_path / "root"
    assert (
        prepare_fashion_mnist(
            root, download=False, system_dir=system_dir, checksums=None
        )
        == root
    )
    assert files_under(raw_dir(root)) == sorted(ALL_FILES)
    data = load_fashion_mnist(root, download=False, checksums=None)
    assert torch.equal(
        data.train_labels, torch.from_numpy(tiny_data.train_labels).long()
    )


def test_missing_system_folder_returns_false_and_writes_nothing(tmp_path):
    root = tmp_path / "root"
    assert unpack_system_copy(root, tmp_path / "does-not-exist") is False
    assert not root.exists()


def test_incomplete_system_folder_returns_false_and_writes_nothing(
    tmp_path, system_dir
):
    (system_dir / "t10k-labels-idx1-ubyte.gz").unlink()
    root = tmp_path / "root"
    unchecked = dict.fromkeys(FASHION_MNIST_MD5)
    assert unpack_system_copy(root, system_dir, checksums=unchecked) is False
    assert not root.exists()


@pytest.mark.usefixtures("no_env_root")
def test_missing_data_error_names_the_remedies(tmp_path, empty_dir):
    root = tmp_path / "nothing-here"
    with pytest.raises(FashionMNISTError) as info:
        prepare_fashion_mnist(
            root, download=False, system_dir=empty_dir, checksums=None
        )
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert DATA_ENV_VAR in message
    assert str(raw_dir(root)) in message
    assert "download=True" in message
    assert not root.exists()


def test_missing_data_error_is_a_runtime_error():
    assert issubclass(FashionMNISTError, RuntimeError)


def test_incomplete_root_without_system_copy_is_an_error(raw_root, empty_dir):
    (raw_dir(raw_root) / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FashionMNISTError, match="not found"):
        prepare_fashion_mnist(
            raw_root, download=False, system_dir=empty_dir, checksums=None
        )


def test_failed_download_is_reported(monkeypatch, tmp_path, empty_dir):
    def failing_download(root):
        raise OSError("no route to host")

    monkeypatch.setattr(data_module, "_download", failing_download)
    with pytest.raises(FashionMNISTError, match="no route to host"):
        prepare_fashion_mnist(
            tmp_path / "root", download=True, system_dir=empty_dir, checksums=None
        )


def test_without_the_debian_package_the_default_path_downloads(
    monkeypatch, tmp_path, tiny_data
):
    """Colab's case: no $FASHION_MNIST_ROOT, no Debian package, internet.

    torchvision's download is replaced by a fake that writes the tiny files
    where torchvision would, so the test needs no network.
    """
    import torchvision.datasets

    monkeypatch.setattr(data_module, "_download", REAL_DOWNLOAD)
    monkeypatch.delenv(DATA_ENV_VAR, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data_module, "DEBIAN_DIR", tmp_path / "no-such-package")
    downloads = []

    class FakeFashionMNIST:
        def __init__(self, root, train=True, download=False):
            assert download, "the loader must ask torchvision to download"
            downloads.append((Path(root), train))
            tiny_data.write_raw(Path(root))

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", FakeFashionMNIST)
    sums = {
        name: hashlib.md5(b).hexdigest() for name, b in tiny_data.file_bytes().items()
    }

    root = prepare_fashion_mnist(checksums=sums)

    expected_root = tmp_path / "home" / ".cache" / "dropout-book"
    assert root == expected_root
    assert sorted(train for _, train in downloads) == [False, True]
    # torchvision downloaded into a scratch folder, removed afterwards.
    assert all(scratch.parent == expected_root for scratch, _ in downloads)
    assert files_under(expected_root) == sorted(
        [f"FashionMNIST/raw/{name}" for name in ALL_FILES]
        + ["FashionMNIST/raw/.verified.json"]
    )
    # The next call finds the files and does not download again.
    downloads.clear()
    assert prepare_fashion_mnist(checksums=sums) == expected_root
    assert downloads == []


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def test_load_returns_float_images_in_unit_range_and_int64_labels(raw_root, tiny_data):
    data = load_fashion_mnist(raw_root, download=False, checksums=None)
    assert isinstance(data, FashionMNIST)
    splits = [
        (
            data.train_images,
            data.train_labels,
            tiny_data.train_images,
            tiny_data.train_labels,
        ),
        (
            data.test_images,
            data.test_labels,
            tiny_data.test_images,
            tiny_data.test_labels,
        ),
    ]
    for images, labels, raw_images, raw_labels in splits:
        n = len(raw_labels)
        assert images.dtype == torch.float32
        assert images.shape == (n, 1, 28, 28)
        assert images.min().item() == 0.0
        assert images.max().item() == 1.0
        expected = torch.from_numpy(raw_images.astype(np.float32) / 255)
        torch.testing.assert_close(images[:, 0], expected)
        assert labels.dtype == torch.int64
        assert labels.shape == (n,)
        assert labels.tolist() == raw_labels.tolist()


def test_truncated_file_gives_error_saying_to_delete_the_folder(raw_root):
    path = raw_dir(raw_root) / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(FashionMNISTError, match="delete that folder") as info:
        load_fashion_mnist(raw_root, download=False, checksums=None)
    assert str(raw_dir(raw_root)) in str(info.value)


@pytest.mark.parametrize("name", ALL_FILES)
def test_garbage_file_gives_error(raw_root, name):
    (raw_dir(raw_root) / name).write_bytes(b"this is not an IDX file")
    with pytest.raises(FashionMNISTError, match="delete that folder"):
        load_fashion_mnist(raw_root, download=False, checksums=None)


def test_empty_file_gives_error(raw_root):
    (raw_dir(raw_root) / "t10k-labels-idx1-ubyte").write_bytes(b"")
    with pytest.raises(FashionMNISTError, match="delete that folder"):
        load_fashion_mnist(raw_root, download=False, checksums=None)


def test_wrong_image_size_gives_error(raw_root):
    write_idx_file(
        raw_dir(raw_root) / "train-images-idx3-ubyte",
        np.zeros((12, 27, 28), dtype=np.uint8),
    )
    with pytest.raises(FashionMNISTError, match=r"\(N, 28, 28\)"):
        load_fashion_mnist(raw_root, download=False, checksums=None)


def test_label_count_mismatch_gives_error(raw_root):
    write_idx_file(
        raw_dir(raw_root) / "t10k-labels-idx1-ubyte", np.zeros(3, dtype=np.uint8)
    )
    with pytest.raises(FashionMNISTError, match="do not match"):
        load_fashion_mnist(raw_root, download=False, checksums=None)


def test_label_out_of_range_gives_error(raw_root):
    labels = make_tiny_fashion_mnist().train_labels.copy()
    labels[-1] = 10
    write_idx_file(raw_dir(raw_root) / "train-labels-idx1-ubyte", labels)
    with pytest.raises(FashionMNISTError, match="0-9"):
        load_fashion_mnist(raw_root, download=False, checksums=None)


def test_gzipped_idx_in_raw_folder_is_not_mistaken_for_data(raw_root):
    """A .gz file under the unpacked name is corrupt data, reported as such."""
    path = raw_dir(raw_root) / "t10k-images-idx3-ubyte"
    path.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(FashionMNISTError, match="delete that folder"):
        load_fashion_mnist(raw_root, download=False, checksums=None)


# --------------------------------------------------------------------------
# TensorBatches
# --------------------------------------------------------------------------


def numbered(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Features whose value is the example's index, labels index + 1000."""
    features = torch.arange(n, dtype=torch.float32).reshape(n, 1)
    return features, torch.arange(n) + 1000


@pytest.mark.parametrize(
    ("n", "batch_size", "expected_len"),
    [(10, 3, 4), (9, 3, 3), (1, 5, 1), (0, 4, 0), (10, 1, 10), (10, 10, 1)],
)
def test_number_of_batches(n, batch_size, expected_len):
    batches = TensorBatches(*numbered(n), batch_size)
    assert len(batches) == expected_len
    assert len(list(batches)) == expected_len
    assert batches.num_examples == n


def test_batches_in_order_with_partial_last_batch():
    features, labels = numbered(10)
    batches = list(TensorBatches(features, labels, 4))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    assert torch.equal(batches[-1][0], features[8:])
    assert torch.equal(batches[-1][1], labels[8:])
    assert torch.equal(torch.cat([X for X, _ in batches]), features)


@pytest.mark.parametrize("batch_size", [1, 3, 7, 64])
def test_shuffled_epoch_sees_every_example_once(batch_size):
    features, labels = numbered(50)
    batches = TensorBatches(
        features, labels, batch_size, shuffle=True, generator=torch.Generator()
    )
    for _ in range(2):
        epoch = list(batches)  # one pass
        seen_X = torch.cat([X for X, _ in epoch]).flatten().long()
        seen_y = torch.cat([y for _, y in epoch])
        assert sorted(seen_X.tolist()) == list(range(50))
        # Features and labels stay paired.
        assert torch.equal(seen_y, seen_X + 1000)
        sizes = [len(y) for _, y in epoch]
        assert sum(sizes) == 50
        assert all(size == batch_size for size in sizes[:-1])


def epoch_order(batches: TensorBatches) -> list[int]:
    return torch.cat([X for X, _ in batches]).flatten().long().tolist()


def test_shuffled_order_differs_between_epochs():
    batches = TensorBatches(
        *numbered(100), 10, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    first, second = epoch_order(batches), epoch_order(batches)
    assert first != second
    assert sorted(first) == sorted(second)
    assert first != list(range(100))


def test_same_generator_seed_gives_same_order():
    def make(seed):
        return TensorBatches(
            *numbered(100),
            8,
            shuffle=True,
            generator=torch.Generator().manual_seed(seed),
        )

    a, b, c = make(3), make(3), make(4)
    assert [epoch_order(a) for _ in range(3)] == [epoch_order(b) for _ in range(3)]
    assert epoch_order(make(3)) != epoch_order(c)


def test_unshuffled_batches_ignore_rng():
    batches = TensorBatches(*numbered(20), 6)
    state = torch.get_rng_state()
    assert epoch_order(batches) == list(range(20))
    assert epoch_order(batches) == list(range(20))
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("batch_size", [0, -1])
def test_batch_size_below_one_is_a_value_error(batch_size):
    with pytest.raises(ValueError, match="at least 1"):
        TensorBatches(*numbered(5), batch_size)


@pytest.mark.parametrize("batch_size", [2.0, "4", True, None])
def test_non_int_batch_size_is_a_type_error(batch_size):
    with pytest.raises(TypeError, match="batch_size must be an int"):
        TensorBatches(*numbered(5), batch_size)


def test_mismatched_lengths_are_an_error():
    features, labels = numbered(5)
    with pytest.raises(ValueError, match="5 != 4"):
        TensorBatches(features, labels[:4], 2)


def test_to_keeps_settings_and_moves_data():
    generator = torch.Generator()
    batches = TensorBatches(*numbered(7), 3, shuffle=True, generator=generator)
    moved = batches.to("cpu")
    assert moved is not batches
    assert moved.batch_size == 3
    assert moved.shuffle is True
    assert moved.generator is generator
    assert moved.features.device == torch.device("cpu")
    assert len(moved) == 3


# --------------------------------------------------------------------------
# fashion_mnist_batches and text_labels
# --------------------------------------------------------------------------


@pytest.fixture
def fake_data():
    n_train, n_test = 30, 11
    return FashionMNIST(
        torch.arange(n_train, dtype=torch.float32).reshape(n_train, 1, 1, 1),
        torch.arange(n_train) % 10,
        torch.arange(n_test, dtype=torch.float32).reshape(n_test, 1, 1, 1),
        torch.arange(n_test) % 10,
    )


def test_fashion_mnist_batches_with_given_data(fake_data):
    train_iter, test_iter = fashion_mnist_batches(4, data=fake_data)
    assert isinstance(train_iter, TensorBatches)
    assert len(train_iter) == 8  # ceil(30 / 4)
    assert len(test_iter) == 3  # ceil(11 / 4)
    assert train_iter.shuffle and not test_iter.shuffle
    assert train_iter.features is fake_data.train_images
    assert test_iter.labels is fake_data.test_labels
    # Test batches come in order; training batches cover everything once.
    assert epoch_order(test_iter) == list(range(11))
    train_order = epoch_order(train_iter)
    assert sorted(train_order) == list(range(30))
    assert train_order != list(range(30))


@pytest.mark.parametrize("seed", [2**64, 0.5, True])
def test_fashion_mnist_batches_rejects_a_seed_torch_cannot_take(fake_data, seed):
    with pytest.raises(ValueError, match="seed must be"):
        fashion_mnist_batches(5, data=fake_data, seed=seed)


def test_fashion_mnist_batches_seed_controls_the_order(fake_data):
    a, _ = fashion_mnist_batches(5, data=fake_data, seed=1)
    b, _ = fashion_mnist_batches(5, data=fake_data, seed=1)
    c, _ = fashion_mnist_batches(5, data=fake_data, seed=2)
    assert epoch_order(a) == epoch_order(b)
    assert epoch_order(a) != epoch_order(c)


def test_fashion_mnist_batches_loads_from_root_and_checks_it(raw_root):
    # The tiny files are not the original ones, so the MD5 check refuses them:
    # proof that the root was read and checked, not silently skipped.
    with pytest.raises(FashionMNISTError, match="MD5"):
        fashion_mnist_batches(5, root=raw_root)


def test_text_labels():
    assert text_labels([0, 9]) == ["t-shirt", "ankle boot"]
    assert text_labels(torch.tensor([3, 8, 5])) == ["dress", "bag", "sandal"]
    assert text_labels([]) == []
    assert text_labels(range(10)) == list(TEXT_LABELS)
    assert len(set(TEXT_LABELS)) == 10


@pytest.mark.parametrize("label", [10, -1])
def test_text_labels_out_of_range(label):
    with pytest.raises(ValueError, match="0 to 9"):
        text_labels([label])


def real_sums(folder):
    return {
        name: hashlib.md5((folder / name).read_bytes()).hexdigest()
        for name in FASHION_MNIST_MD5
    }


def test_existing_files_are_checked_once_then_remembered(raw_root, empty_dir):
    raw = raw_root / "FashionMNIST" / "raw"
    sums = real_sums(raw)
    prepare_fashion_mnist(
        raw_root, download=False, system_dir=empty_dir, checksums=sums
    )
    assert (raw / ".verified.json").is_file()

    # Same size and time stamp: the stamp vouches for the file, no rehashing.
    wrong = {name: "0" * 32 for name in sums}
    prepare_fashion_mnist(
        raw_root, download=False, system_dir=empty_dir, checksums=wrong
    )


def test_a_corrupt_file_of_the_right_size_is_caught(raw_root, empty_dir):
    raw = raw_root / "FashionMNIST" / "raw"
    sums = real_sums(raw)
    target = raw / "train-images-idx3-ubyte"
    data = bytearray(target.read_bytes())
    data[-10:] = b"\xff" * 10
    target.write_bytes(bytes(data))
    with pytest.raises(FashionMNISTError, match=r"train-images-idx3-ubyte.*Delete"):
        prepare_fashion_mnist(
            raw_root, download=False, system_dir=empty_dir, checksums=sums
        )
    assert not (raw / ".verified.json").exists()


def test_a_truncated_system_archive_gives_a_clear_error(tmp_path, system_dir):
    archive = system_dir / "train-labels-idx1-ubyte.gz"
    archive.write_bytes(archive.read_bytes()[:20])
    root = tmp_path / "root"
    with pytest.raises(FashionMNISTError, match="truncated or corrupt"):
        prepare_fashion_mnist(
            root, download=False, system_dir=system_dir, checksums=None
        )
    # The broken file is neither left under its name nor as a hidden temp file.
    assert not [name for name in files_under(root) if "train-labels" in name]


def test_a_root_that_is_a_file_gives_a_clear_error(tmp_path, system_dir):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(FashionMNISTError, match=r"cannot use .* as the Fashion-MNIST"):
        prepare_fashion_mnist(not_a_folder, download=False, system_dir=system_dir)


def test_a_failed_download_is_summarised_in_one_line(monkeypatch, tmp_path, empty_dir):
    def broken(root):
        raise RuntimeError("Error downloading x\nTried mirror a\nTried mirror b")

    monkeypatch.setattr(dropout_utils.data, "_download", broken)
    with pytest.raises(FashionMNISTError) as info:
        prepare_fashion_mnist(tmp_path / "r", download=True, system_dir=empty_dir)
    message = str(info.value)
    assert "the download failed: Error downloading x" in message
    assert "Tried mirror" not in message
    assert "download=True" not in message


def test_a_failed_download_keeps_the_last_mirrors_reason(
    monkeypatch, tmp_path, empty_dir
):
    def broken(root):  # the shape of torchvision's message
        raise RuntimeError(
            "Error downloading train-images-idx3-ubyte.gz:\n"
            "Tried https://a/, got:\n<urlopen error timed out>\n"
            "Tried https://b/, got:\n<urlopen error [Errno -2] Name or service "
            "not known>\n"
        )

    monkeypatch.setattr(dropout_utils.data, "_download", broken)
    with pytest.raises(FashionMNISTError) as info:
        prepare_fashion_mnist(tmp_path / "r", download=True, system_dir=empty_dir)
    line = next(
        line for line in str(info.value).splitlines() if "download failed" in line
    )
    assert line.endswith(
        "Error downloading train-images-idx3-ubyte.gz: <urlopen error [Errno -2] "
        "Name or service not known>"
    )


def test_the_command_line_reports_missing_data_without_a_traceback(
    monkeypatch, tmp_path, empty_dir
):
    monkeypatch.setattr(dropout_utils.data, "DEBIAN_DIR", empty_dir)
    from dropout_utils.__main__ import main

    with pytest.raises(SystemExit) as info:
        main(["data", "--no-download", "--root", str(tmp_path / "none")])
    assert str(info.value).startswith("error: Fashion-MNIST was not found")
    assert "apt-get install dataset-fashion-mnist" in str(info.value)


def test_the_command_line_lists_its_commands():
    from dropout_utils.__main__ import main

    with pytest.raises(SystemExit, match="python -m dropout_utils COMMAND"):
        main([])


def test_the_command_line_prints_its_usage_when_asked(capsys):
    from dropout_utils.__main__ import main

    main(["--help"])  # returns: asking for help is not an error
    assert "python -m dropout_utils COMMAND" in capsys.readouterr().out
