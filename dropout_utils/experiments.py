"""Training runs for the exercises, cached on disk by configuration and code.

`run(config)` trains the chapter's MLP with one kind of noise and returns its
history, activation statistics and final weights. Runs are stored with
`joblib.Memory` in `$DROPOUT_BOOK_CACHE` (default: `.cache/experiments` in the
repository), keyed by the configuration, by a fingerprint of the data and by
`code_version()`, a hash of the source of every module a run depends on.
An unchanged rebuild reuses finished runs; editing, say, `noise.py` reruns
them. joblib writes each result to a temporary file and renames it, so an
interrupted run leaves nothing half-written behind.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import torch
from torch import nn

from . import activations, data, layers, models, noise, training
from .activations import ActivationStats
from .data import FashionMNIST, TensorBatches
from .layers import Dropout
from .models import init_normal
from .noise import DropConnectLinear, GaussianNoise

logger = logging.getLogger(__name__)

#: Environment variable naming the folder of the experiment cache.
CACHE_ENV_VAR = "DROPOUT_BOOK_CACHE"

#: The kinds of noise a run can inject after each hidden layer.
NOISE_KINDS = ("dropout", "dropconnect", "gaussian-multiplicative", "gaussian-additive")

PROBE_SIZE = 1000  # test images on which activations are measured each epoch
# Evaluation needs no gradients and no noise, so it goes in large batches
# whatever the training batch size: far fewer calls, the same accuracy.
EVAL_BATCH_SIZE = 2048
SUBSET_SEED = 2024  # fixes which training images a subset run uses


def default_cache_dir() -> Path:
    """`$DROPOUT_BOOK_CACHE`, else `.cache/experiments` in the repository.

    Outside a checkout of the book (an installed package) the fallback is a
    per-user cache folder.
    """
    if os.environ.get(CACHE_ENV_VAR):
        return Path(os.environ[CACHE_ENV_VAR]).expanduser()
    repo = Path(__file__).resolve().parents[1]
    if (repo / "_config.yml").is_file():
        return repo / ".cache" / "experiments"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "dropout-book" / "experiments"


@dataclass(frozen=True)
class RunConfig:
    """One training run of the 784-256-256-10 MLP.

    `level1` and `level2` set the noise after the first and second hidden
    layer: drop probabilities for "dropout" and "dropconnect" (DropConnect
    drops the weights of the layer that reads that hidden layer), standard
    deviations for the Gaussian kinds. Dropout at 0 and 0 is the plain MLP.
    """

    noise: str = "dropout"
    level1: float = 0.2
    level2: float = 0.5
    weight_decay: float = 0.0
    num_epochs: int = 10
    lr: float = 0.5
    batch_size: int = 256
    num_train: int | None = None  # None: all 60000 training images
    seed: int = 0  # initial weights, batch order and noise

    def __post_init__(self) -> None:
        if self.noise not in NOISE_KINDS:
            raise ValueError(f"noise must be one of {NOISE_KINDS}, got {self.noise!r}")
        if self.noise in ("dropout", "dropconnect"):
            layers.check_drop_prob(self.level1)
            layers.check_drop_prob(self.level2)
        else:
            noise.check_noise_std(self.level1)
            noise.check_noise_std(self.level2)
        if self.num_train is not None and (
            isinstance(self.num_train, bool)
            or not isinstance(self.num_train, int)
            or self.num_train < 1
        ):
            raise ValueError(
                f"num_train must be None (all images) or a positive int, "
                f"got {self.num_train!r}"
            )
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int):
            raise ValueError(f"batch_size must be an int, got {self.batch_size!r}")
        # The training hyper-parameters are checked by TrainConfig.
        self.train_config()

    def train_config(self) -> training.TrainConfig:
        return training.TrainConfig(
            num_epochs=self.num_epochs,
            lr=self.lr,
            weight_decay=self.weight_decay,
            seed=self.seed,
            device="cpu",
        )


@dataclass
class RunResult:
    """What `run` returns: per-epoch records, statistics and final weights."""

    config: RunConfig
    history: list[dict[str, float]]  # EpochStats as dicts, one per epoch
    # Per epoch, epoch 0 (before training) included: {layer: {mean, var}}
    # measured on the first PROBE_SIZE test images with the noise off.
    probe_stats: list[dict[str, dict[str, float]]]
    # Per epoch: the same layers over that epoch's training batches, noise on.
    train_stats: list[dict[str, dict[str, float]]]
    # Per epoch, on the run's training images with the noise off; full runs
    # measure it after the last epoch only and hold NaN before.
    clean_train_acc: list[float]
    state_dict: dict[str, torch.Tensor]
    seconds: float  # wall-clock time of the run when it was computed
    run_id: str = field(default="")  # unique per computation (not per reuse)

    def column(self, name: str) -> list[float]:
        return [epoch[name] for epoch in self.history]

    @property
    def final_test_acc(self) -> float:
        return self.history[-1]["test_acc"]

    def model(self) -> nn.Sequential:
        """The trained network, in evaluation mode."""
        net = build_model(self.config)
        net.load_state_dict(self.state_dict)
        return net.eval()


def _noise_layer(kind: str, level: float) -> nn.Module:
    if kind == "dropout":
        # The chapter's own layer: the same statistics as nn.Dropout, and
        # its 16-bit masks cost a fraction of torch's bernoulli_ on a CPU.
        return Dropout(level)
    if kind == "gaussian-multiplicative":
        return GaussianNoise(level, "multiplicative")
    if kind == "gaussian-additive":
        return GaussianNoise(level, "additive")
    return nn.Identity()  # dropconnect: the noise sits in the next layer


def build_model(config: RunConfig, num_hiddens: int = 256) -> nn.Sequential:
    """The chapter's MLP with `config.noise` after each hidden layer.

    Weights are drawn from N(0, 0.01^2) with the global generator, as in
    `concise_mlp`: seed it first for reproducible weights.
    """

    def linear(n_in: int, n_out: int, level: float) -> nn.Linear:
        if config.noise == "dropconnect":
            return DropConnectLinear(n_in, n_out, level)
        return nn.Linear(n_in, n_out)

    net = nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, num_hiddens),
        nn.ReLU(),
        _noise_layer(config.noise, config.level1),
        linear(num_hiddens, num_hiddens, config.level1),
        nn.ReLU(),
        _noise_layer(config.noise, config.level2),
        linear(num_hiddens, 10, config.level2),
    )
    net.apply(init_normal)
    return net


def hidden_layers(net: nn.Sequential) -> dict[str, nn.Module]:
    """The ReLU modules of `net`, named "hidden 1", "hidden 2", ..."""
    relus = [m for m in net if isinstance(m, nn.ReLU)]
    return {f"hidden {i}": relu for i, relu in enumerate(relus, 1)}


#: The code whose source decides what a run computes: whole modules where
#: a run uses most of them, single functions and classes elsewhere, so that
#: editing an unrelated part of, say, `layers.py` does not retrain anything.
#: This module itself is always added.
DEPENDENCIES: tuple[ModuleType | type | Callable, ...] = (
    activations,
    noise,
    layers,
    models.init_normal,
    data.TensorBatches,
    training.TrainConfig,
    training.EpochStats,
    training.History,
    training.pick_device,
    training.evaluate_accuracy,
    training.BatchEnd,
    training.EpochEnd,
    training._epoch_steps,
    training.iter_train,
    training.train_epoch,
    training.train,
)


def code_version(objects: tuple | None = None) -> str:
    """A hash of the source of `objects` (default: everything a run uses).

    joblib already notices edits to the cached function itself; this key
    adds the helpers it calls, this module included, and PyTorch's version.
    """
    import sys

    objects = (*DEPENDENCIES, sys.modules[__name__]) if objects is None else objects
    digest = hashlib.sha256()
    for obj in objects:
        name = (
            f"{obj.__module__}.{obj.__qualname__}"
            if hasattr(obj, "__qualname__")
            else obj.__name__
        )
        digest.update(name.encode())
        digest.update(inspect.getsource(obj).encode())
    digest.update(torch.__version__.encode())
    return digest.hexdigest()[:16]


def data_fingerprint(dataset: FashionMNIST) -> str:
    """A cheap hash of the data: shapes, all labels and every 97th pixel."""
    digest = hashlib.sha256()
    for tensor in (
        dataset.train_images,
        dataset.train_labels,
        dataset.test_images,
        dataset.test_labels,
    ):
        digest.update(str(tuple(tensor.shape)).encode())
        flat = tensor.reshape(-1)
        digest.update(flat[::97].contiguous().numpy().tobytes())
    digest.update(dataset.train_labels.numpy().tobytes())
    return digest.hexdigest()[:16]


def training_subset(
    dataset: FashionMNIST, num_train: int | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """`num_train` training images drawn once with a fixed seed (or all)."""
    images, labels = dataset.train_images, dataset.train_labels
    if num_train is None:
        return images, labels
    if num_train > len(labels):
        raise ValueError(
            f"num_train={num_train} exceeds the {len(labels)} training images"
        )
    order = torch.randperm(
        len(labels), generator=torch.Generator().manual_seed(SUBSET_SEED)
    )
    keep = order[:num_train]
    return images[keep], labels[keep]


def _train_run(
    config: RunConfig, code: str, fingerprint: str, dataset: FashionMNIST
) -> dict:
    """Train one run; the cached function (`dataset` is keyed by `fingerprint`)."""
    start = time.perf_counter()
    images, labels = training_subset(dataset, config.num_train)
    train_iter = TensorBatches(
        images,
        labels,
        config.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(config.seed),
    )
    test_iter = TensorBatches(dataset.test_images, dataset.test_labels, EVAL_BATCH_SIZE)
    probe = dataset.test_images[:PROBE_SIZE]
    clean_train_iter = TensorBatches(images, labels, EVAL_BATCH_SIZE)

    torch.manual_seed(config.seed)  # the initial weights
    net = build_model(config)
    watched = hidden_layers(net)

    def probe_stats() -> dict:
        net.eval()
        with ActivationStats(watched) as stats, torch.inference_mode():
            net(probe)
        return stats.summary()

    probes = [probe_stats()]
    train_stats: list[dict] = []
    clean_acc: list[float] = []
    recorder = ActivationStats(watched, when="train")

    def on_epoch_end(history: training.History) -> None:
        train_stats.append(recorder.summary())
        recorder.reset()
        probes.append(probe_stats())
        # A clean pass over 60000 images costs a fifth of an epoch, so full
        # runs measure it after the last epoch only (NaN before that).
        if config.num_train is not None or len(history) == config.num_epochs:
            clean_acc.append(training.evaluate_accuracy(net, clean_train_iter))
        else:
            clean_acc.append(float("nan"))

    with recorder:
        history = training.train(
            net, train_iter, test_iter, config.train_config(), on_epoch_end=on_epoch_end
        )
    seconds = time.perf_counter() - start
    logger.info("trained %s in %.1f s", config, seconds)
    return {
        "history": history.as_records(),
        "probe_stats": probes,
        "train_stats": train_stats,
        "clean_train_acc": clean_acc,
        "state_dict": {k: v.detach().clone() for k, v in net.state_dict().items()},
        "seconds": seconds,
        "run_id": uuid.uuid4().hex,
    }


@functools.cache
def _memory(location: str):
    import joblib

    return joblib.Memory(location, verbose=0)


@functools.lru_cache(maxsize=1)
def fashion_mnist() -> FashionMNIST:
    """Fashion-MNIST, loaded once per process and shared by every run."""
    return data.load_fashion_mnist()


def run(
    config: RunConfig,
    *,
    dataset: FashionMNIST | None = None,
    cache_dir: str | os.PathLike | None = None,
    code: str | None = None,
) -> RunResult:
    """Train `config` once, or return the stored result of an identical run.

    Args:
        config: the run's settings.
        dataset: the data (default: Fashion-MNIST, loaded once per process).
        cache_dir: the cache folder (default: `default_cache_dir()`).
        code: the code version in the key (default: `code_version()`).
    """
    if not isinstance(config, RunConfig):
        raise TypeError(f"config must be a RunConfig, got {type(config).__name__}")
    dataset = fashion_mnist() if dataset is None else dataset
    location = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    location.mkdir(parents=True, exist_ok=True)
    cached = _memory(str(location)).cache(_train_run, ignore=["dataset"])
    result = cached(
        config,
        code_version() if code is None else code,
        data_fingerprint(dataset),
        dataset,
    )
    return RunResult(config=config, **result)


def summarise(values: list[float]) -> dict[str, float]:
    """Mean, sample standard deviation, minimum and maximum of `values`."""
    tensor = torch.tensor(values, dtype=torch.float64)
    return {
        "mean": float(tensor.mean()),
        "std": float(tensor.std()) if len(values) > 1 else 0.0,
        "min": float(tensor.min()),
        "max": float(tensor.max()),
    }
