"""Training and evaluation loops that return a per-epoch history."""

from __future__ import annotations

import logging
import math
import numbers
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from .data import check_seed

logger = logging.getLogger(__name__)

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


class StopTraining(Exception):  # noqa: N818 - a signal, like StopIteration
    """Raise from a callback to end a run early; `train` returns what it has."""


class TrainingDivergedError(FloatingPointError):
    """The training loss became NaN or infinite.

    `history` holds the epochs that finished before the loss diverged.
    """

    def __init__(self, message: str, history: History | None = None) -> None:
        super().__init__(message)
        self.history = history


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run."""

    num_epochs: int = 10  # full passes over the training set
    lr: float = 0.5  # SGD learning rate
    weight_decay: float = 0.0  # L2 penalty passed to SGD
    seed: int = 0  # seeds the dropout masks (the global RNG) for this run
    device: str | None = None  # None picks CUDA, then Apple MPS, then the CPU

    def __post_init__(self) -> None:
        def is_int(value: object) -> bool:
            return isinstance(value, numbers.Integral) and not isinstance(value, bool)

        def is_real(value: object) -> bool:
            return isinstance(value, numbers.Real) and not isinstance(value, bool)

        if not is_int(self.num_epochs) or self.num_epochs < 0:
            raise ValueError(
                f"num_epochs must be a whole number >= 0, got {self.num_epochs!r}"
            )
        if not is_real(self.lr) or not 0 < self.lr < math.inf:
            raise ValueError(f"lr must be a positive finite number, got {self.lr!r}")
        if not is_real(self.weight_decay) or not 0 <= self.weight_decay < math.inf:
            raise ValueError(
                f"weight_decay must be a finite number >= 0, got {self.weight_decay!r}"
            )
        check_seed(self.seed)


@dataclass
class EpochStats:
    """Metrics of one epoch. Training metrics are measured with dropout on."""

    epoch: int
    train_loss: float
    train_acc: float
    test_acc: float
    seconds: float


@dataclass
class History:
    """What a training run produced, epoch by epoch."""

    epochs: list[EpochStats] = field(default_factory=list)
    interrupted: bool = False  # True when the run was stopped before the end

    def __len__(self) -> int:
        return len(self.epochs)

    def column(self, name: str) -> list[float]:
        """One metric over the epochs, e.g. `history.column("test_acc")`."""
        return [getattr(stats, name) for stats in self.epochs]

    @property
    def final(self) -> EpochStats:
        if not self.epochs:
            raise ValueError("the history is empty: no epoch has finished")
        return self.epochs[-1]

    def as_records(self) -> list[dict[str, float]]:
        return [asdict(stats) for stats in self.epochs]


def pick_device(preferred: str | None = None) -> torch.device:
    """`preferred` if given, else CUDA, else Apple MPS, else the CPU."""
    if preferred is not None:
        device = torch.device(preferred)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device {preferred!r} was requested but PyTorch sees no CUDA "
                "GPU here; pass device=None to pick what is available"
            )
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _model_device(net: nn.Module) -> torch.device:
    """The device of the model's first parameter (the CPU if it has none)."""
    first = next(net.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def evaluate_accuracy(
    net: nn.Module, batches: Batches, device: torch.device | str | None = None
) -> float:
    """Fraction of correctly classified examples, with dropout off.

    Runs on `device`, by default the device the model's parameters are on.
    The train/eval mode of every submodule is restored afterwards.
    """
    device = _model_device(net) if device is None else torch.device(device)
    # Remember each submodule's own mode: a model may mix frozen (eval) and
    # training parts, and net.train(flag) would overwrite them all.
    modes = {module: module.training for module in net.modules()}
    net.eval()
    correct, total = 0, 0
    try:
        # inference_mode skips autograd's bookkeeping entirely: evaluation
        # needs no gradients, and it runs faster and allocates less.
        with torch.inference_mode():
            for X, y in batches:
                X, y = X.to(device), y.to(device)
                correct += int((net(X).argmax(dim=1) == y).sum())
                total += len(y)
    finally:
        for module, mode in modes.items():
            module.training = mode
    if total == 0:
        raise ValueError("cannot evaluate accuracy on an empty set of batches")
    return correct / total


@dataclass(frozen=True)
class BatchEnd:
    """What `iter_train` yields after each optimizer step."""

    step: int  # index of the minibatch within its epoch
    loss: float  # that minibatch's mean training loss


@dataclass(frozen=True)
class EpochEnd:
    """What `iter_train` yields after each epoch and its test evaluation."""

    history: History  # every epoch finished so far, this one included


def _epoch_steps(
    net: nn.Module,
    batches: Batches,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
) -> Generator[BatchEnd, None, tuple[float, float]]:
    """One pass in training mode, yielding after each step.

    Returns (mean loss, accuracy) as the generator's value, which
    `yield from` hands to the caller.
    """
    net.train()
    loss_sum, correct, total = 0.0, 0, 0
    for step, (X, y) in enumerate(batches):
        X, y = X.to(device), y.to(device)
        y_hat = net(X)  # (batch, num_classes) logits
        loss = loss_fn(y_hat, y)  # mean over the batch
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

        batch_loss = loss.item()
        if not math.isfinite(batch_loss):
            raise TrainingDivergedError(
                f"the training loss became {batch_loss} at batch {step}: the "
                "run diverged and the model's weights are no longer usable. "
                "Build a new model and lower the learning rate (for example "
                "halve it), or check the inputs for NaN or infinite values."
            )
        loss_sum += batch_loss * len(y)
        correct += int((y_hat.argmax(dim=1) == y).sum())
        total += len(y)
        yield BatchEnd(step, batch_loss)
    if total == 0:
        raise ValueError("cannot train on an empty set of batches")
    return loss_sum / total, correct / total


def train_epoch(
    net: nn.Module,
    batches: Batches,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
    on_batch_end: Callable[[int, float], None] | None = None,
) -> tuple[float, float]:
    """One pass over `batches` in training mode; returns (mean loss, accuracy)."""
    steps = _epoch_steps(net, batches, loss_fn, optimizer, device)
    while True:
        try:
            event = next(steps)
        except StopIteration as finished:
            return finished.value
        if on_batch_end is not None:
            on_batch_end(event.step, event.loss)


def iter_train(
    net: nn.Module,
    train_iter: Batches,
    test_iter: Batches,
    config: TrainConfig | None = None,
    history: History | None = None,
) -> Iterator[BatchEnd | EpochEnd]:
    """`train` as a generator: the caller decides what happens between steps.

    Yields a `BatchEnd` after every optimizer step and an `EpochEnd` after
    every epoch. Stopping the iteration stops the training, and the epochs
    finished so far stay in `history` (a new one when None is passed). The
    live panel uses this to hand control back to the Jupyter kernel after
    each minibatch, so that a Stop click is seen while training goes on.

    Raises:
        TrainingDivergedError: as `train` does.
    """
    config = TrainConfig() if config is None else config
    history = History() if history is None else history
    device = pick_device(config.device)
    torch.manual_seed(config.seed)  # dropout masks come from the global RNG
    net.to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(
        net.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )

    for epoch in range(1, config.num_epochs + 1):
        start = time.perf_counter()
        try:
            train_loss, train_acc = yield from _epoch_steps(
                net, train_iter, loss_fn, optimizer, device
            )
        except TrainingDivergedError as error:
            # Name the epoch and hand over the epochs that did finish.
            raise TrainingDivergedError(f"epoch {epoch}: {error}", history) from None
        test_acc = evaluate_accuracy(net, test_iter, device)
        seconds = time.perf_counter() - start
        history.epochs.append(
            EpochStats(epoch, train_loss, train_acc, test_acc, seconds)
        )
        logger.debug("epoch %d: %s", epoch, history.epochs[-1])
        yield EpochEnd(history)


def train(
    net: nn.Module,
    train_iter: Batches,
    test_iter: Batches,
    config: TrainConfig | None = None,
    *,
    on_epoch_end: Callable[[History], None] | None = None,
    on_batch_end: Callable[[int, float], None] | None = None,
) -> History:
    """Train `net` with SGD and cross-entropy; evaluate on `test_iter` each epoch.

    Args:
        net: the model; it is moved to the chosen device.
        train_iter: training batches, iterated once per epoch.
        test_iter: test batches, evaluated with dropout off after each epoch.
        config: hyper-parameters, seed and device (defaults: the chapter's).
        on_epoch_end: called with the history after each epoch (live plots).
        on_batch_end: called with (batch index, batch loss) after each step.

    Returns:
        The per-epoch history. If the run is interrupted (Ctrl-C, the
        kernel's stop button, or a callback raising `StopTraining`), the
        epochs finished so far are returned with `history.interrupted` set,
        so no finished work is lost.

    Raises:
        TrainingDivergedError: when the loss becomes NaN or infinite; its
            `history` attribute holds the epochs finished before that.
    """
    config = TrainConfig() if config is None else config
    history = History()
    events = iter_train(net, train_iter, test_iter, config, history)
    try:
        for event in events:
            if isinstance(event, BatchEnd):
                if on_batch_end is not None:
                    on_batch_end(event.step, event.loss)
            elif on_epoch_end is not None:
                on_epoch_end(history)
    except StopTraining:
        history.interrupted = True
        logger.info("training stopped after %d epochs", len(history))
    except KeyboardInterrupt:
        history.interrupted = True
        logger.warning(
            "training interrupted after %d of %d epochs; the returned history "
            "holds the finished epochs. The model keeps the weights it had "
            "reached, part of the unfinished epoch included: calling train() "
            "again continues from them, so build a new model to start over.",
            len(history),
            config.num_epochs,
        )
    finally:
        events.close()
    return history
