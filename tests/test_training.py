"""Training and evaluation loops on a small, learnable synthetic task."""

from __future__ import annotations

import copy
import itertools
import logging
import math

import pytest
import torch
from conftest import region_dataset
from torch import nn

from dropout_utils import (
    DropoutMLP,
    EpochStats,
    History,
    TensorBatches,
    TrainConfig,
    TrainingDivergedError,
    evaluate_accuracy,
    pick_device,
    train,
    train_epoch,
)
from dropout_utils import training as training_module

CPU = TrainConfig(num_epochs=3, lr=0.1, seed=0, device="cpu")


def fresh_net(seed: int = 0) -> DropoutMLP:
    torch.manual_seed(seed)
    return DropoutMLP()


def results(history: History) -> list[tuple]:
    """Everything in a history except the wall-clock seconds."""
    return [
        (s.epoch, s.train_loss, s.train_acc, s.test_acc) for s in history.epochs
    ] + [history.interrupted]


@pytest.fixture(scope="module")
def trained():
    """One short training run shared by the read-only checks below."""
    X_train, y_train = region_dataset(512, seed=0)
    X_test, y_test = region_dataset(256, seed=1)
    train_iter = TensorBatches(
        X_train, y_train, 64, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    test_iter = TensorBatches(X_test, y_test, 64)
    net = fresh_net()
    history = train(net, train_iter, test_iter, CPU)
    return net, history, test_iter


# --------------------------------------------------------------------------
# A short training run
# --------------------------------------------------------------------------


def test_history_has_one_entry_per_epoch(trained):
    _, history, _ = trained
    assert isinstance(history, History)
    assert len(history) == 3
    assert all(isinstance(stats, EpochStats) for stats in history.epochs)
    assert history.column("epoch") == [1, 2, 3]
    assert history.interrupted is False
    assert history.final is history.epochs[-1]


def test_history_values_are_finite_and_in_range(trained):
    _, history, _ = trained
    for stats in history.epochs:
        for value in (stats.train_loss, stats.train_acc, stats.test_acc):
            assert isinstance(value, float)
            assert math.isfinite(value)
        assert stats.train_loss >= 0
        assert 0.0 <= stats.train_acc <= 1.0
        assert 0.0 <= stats.test_acc <= 1.0
        assert stats.seconds >= 0


def test_training_loss_decreases(trained):
    _, history, _ = trained
    losses = history.column("train_loss")
    assert all(later < earlier for earlier, later in itertools.pairwise(losses))
    assert losses[-1] < 0.5 * losses[0]


def test_test_accuracy_well_above_chance(trained):
    _, history, _ = trained
    # Four classes: chance is 0.25.
    assert history.final.test_acc > 0.9
    assert history.final.train_acc > 0.6


def test_history_test_acc_matches_a_fresh_evaluation(trained):
    net, history, test_iter = trained
    assert evaluate_accuracy(net, test_iter, "cpu") == history.final.test_acc


def test_net_is_left_on_the_device(trained):
    net, _, _ = trained
    assert all(p.device == torch.device("cpu") for p in net.parameters())


def test_history_records_and_column(trained):
    _, history, _ = trained
    records = history.as_records()
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert set(records[0]) == {
        "epoch",
        "train_loss",
        "train_acc",
        "test_acc",
        "seconds",
    }
    assert history.column("test_acc") == [r["test_acc"] for r in records]


def test_empty_history():
    history = History()
    assert len(history) == 0
    assert history.column("train_loss") == []
    assert history.as_records() == []
    with pytest.raises(ValueError, match="empty"):
        _ = history.final


def test_zero_epochs_returns_empty_history(make_batches):
    train_iter, test_iter = make_batches()
    history = train(fresh_net(), train_iter, test_iter, TrainConfig(0, device="cpu"))
    assert len(history) == 0
    assert history.interrupted is False


# --------------------------------------------------------------------------
# train_epoch on a case whose numbers are known exactly
# --------------------------------------------------------------------------


def test_train_epoch_reports_mean_loss_and_accuracy():
    # A zero linear model gives equal logits: the loss is log(10) for every
    # example, and argmax picks class 0.
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    nn.init.zeros_(net[1].weight)
    nn.init.zeros_(net[1].bias)
    X = torch.rand(10, 1, 28, 28)
    y = torch.tensor([0, 0, 0, 1, 2, 3, 4, 5, 6, 7])
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    loss, acc = train_epoch(
        net, [(X, y)], nn.CrossEntropyLoss(), optimizer, torch.device("cpu")
    )
    assert loss == pytest.approx(math.log(10), rel=1e-6)
    assert acc == pytest.approx(0.3)
    assert net.training
    # The step was taken.
    assert not torch.equal(net[1].weight, torch.zeros(10, 784))


def test_train_epoch_on_empty_batches_is_an_error():
    net = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        train_epoch(net, [], nn.CrossEntropyLoss(), optimizer, torch.device("cpu"))


# --------------------------------------------------------------------------
# evaluate_accuracy
# --------------------------------------------------------------------------


class ModeSpy(nn.Module):
    """Records the mode and grad state it is called in; predicts a fixed class."""

    def __init__(self, num_classes: int = 3, predicted: int = 1) -> None:
        super().__init__()
        self.lin = nn.Linear(1, num_classes)
        self.predicted = predicted
        self.calls: list[tuple[bool, bool]] = []

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        self.calls.append((self.training, torch.is_grad_enabled()))
        logits = torch.zeros(len(X), self.lin.out_features)
        logits[:, self.predicted] = 1.0
        return logits + 0 * self.lin(X.reshape(len(X), -1)[:, :1])


def labelled_batches(labels: list[int], batch_size: int = 2) -> TensorBatches:
    y = torch.tensor(labels)
    return TensorBatches(torch.zeros(len(y), 1), y, batch_size)


def test_evaluate_accuracy_value():
    spy = ModeSpy(predicted=1)
    acc = evaluate_accuracy(spy, labelled_batches([1, 0, 1, 2, 1]), "cpu")
    assert acc == pytest.approx(3 / 5)
    assert len(spy.calls) == 3  # batches of 2, 2, 1


@pytest.mark.parametrize("mode", [True, False])
def test_evaluate_accuracy_restores_the_mode_it_found(mode):
    spy = ModeSpy()
    spy.train(mode)
    evaluate_accuracy(spy, labelled_batches([0, 1, 2]), "cpu")
    assert spy.training is mode
    # It ran in eval mode, without gradients.
    assert spy.calls and all(call == (False, False) for call in spy.calls)


@pytest.mark.parametrize("mode", [True, False])
def test_evaluate_accuracy_restores_the_mode_after_an_error(mode):
    class Broken(nn.Module):
        def forward(self, X):
            raise RuntimeError("boom")

    net = Broken().train(mode)
    with pytest.raises(RuntimeError, match="boom"):
        evaluate_accuracy(net, labelled_batches([0, 1]), "cpu")
    assert net.training is mode


def test_evaluate_accuracy_restores_each_submodules_mode():
    """The docstring promises the mode is restored "whatever it was".

    A common case is a model in train mode with one part frozen in eval mode
    (e.g. a normalisation layer); evaluation must not flip that part back on.
    """
    net = nn.Sequential(nn.Flatten(), nn.Linear(1, 3), nn.Dropout(0.5))
    net.train()
    net[2].eval()
    evaluate_accuracy(net, labelled_batches([0, 1, 2]), "cpu")
    assert net.training is True
    assert net[1].training is True
    assert net[2].training is False, "evaluate_accuracy switched a frozen layer on"


def test_evaluate_accuracy_turns_dropout_off():
    # A model that is right only when dropout is off (p=1 zeroes everything).
    net = nn.Sequential(nn.Flatten(), nn.Linear(1, 2), nn.Dropout(1.0))
    with torch.no_grad():
        net[1].weight.zero_()
        net[1].bias.copy_(torch.tensor([-1.0, 1.0]))
    batches = labelled_batches([1, 1, 1, 1])
    net.train()
    assert evaluate_accuracy(net, batches, "cpu") == 1.0


def test_evaluate_accuracy_needs_no_grad_and_builds_no_graph():
    outputs = []
    net = nn.Sequential(nn.Flatten(), nn.Linear(1, 3))
    net.register_forward_hook(lambda m, args, out: outputs.append(out))
    evaluate_accuracy(net, labelled_batches([0, 1, 2, 0]), "cpu")
    assert outputs
    assert not any(out.requires_grad for out in outputs)
    assert all(p.grad is None for p in net.parameters())
    assert torch.is_grad_enabled()  # the global switch is restored


def test_evaluate_accuracy_on_no_batches_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        evaluate_accuracy(ModeSpy(), [], "cpu")


# --------------------------------------------------------------------------
# Divergence
# --------------------------------------------------------------------------


def test_nan_inputs_raise_training_diverged_error(make_batches):
    train_iter, test_iter = make_batches(num_train=128)
    train_iter.features[5, 0, 3, 3] = math.nan
    with pytest.raises(TrainingDivergedError) as info:
        train(fresh_net(), train_iter, test_iter, TrainConfig(2, device="cpu"))
    message = str(info.value)
    assert "lower the learning rate" in message
    assert message.startswith("epoch 1:")
    assert "nan" in message


def test_huge_learning_rate_raises_training_diverged_error(make_batches):
    train_iter, test_iter = make_batches(num_train=256)
    config = TrainConfig(num_epochs=3, lr=1e30, device="cpu")
    with pytest.raises(TrainingDivergedError, match="learning rate"):
        train(fresh_net(), train_iter, test_iter, config)


def test_divergence_keeps_the_epochs_that_finished(make_batches):
    train_iter, test_iter = make_batches(num_train=128)
    calls = []

    def poison_after_first_epoch(history):
        calls.append(len(history))
        train_iter.features[0, 0, 0, 0] = math.inf

    with pytest.raises(TrainingDivergedError) as info:
        train(
            fresh_net(),
            train_iter,
            test_iter,
            TrainConfig(3, lr=0.1, device="cpu"),
            on_epoch_end=poison_after_first_epoch,
        )
    assert str(info.value).startswith("epoch 2:")
    assert calls == [1]
    assert len(info.value.history) == 1
    assert math.isfinite(info.value.history.final.train_loss)


@pytest.mark.parametrize(
    "bad",
    [
        {"num_epochs": 2.5},
        {"num_epochs": True},
        {"lr": math.inf},
        {"lr": "0.1"},
        {"weight_decay": -1.0},
        {"weight_decay": math.nan},
        {"seed": 1.5},
        {"seed": 2**64},
        {"seed": -(2**63) - 1},
    ],
)
def test_train_config_rejects_bad_values_with_a_clear_message(bad):
    (name,) = bad
    with pytest.raises(ValueError, match=name):
        TrainConfig(**bad)


def test_the_seed_range_is_the_one_torch_accepts():
    for seed in (-(2**63), 2**64 - 1):
        TrainConfig(seed=seed)  # accepted, and torch takes it too
        torch.Generator().manual_seed(seed)


def test_training_diverged_error_is_a_floating_point_error():
    assert issubclass(TrainingDivergedError, FloatingPointError)


# --------------------------------------------------------------------------
# Reproducibility
# --------------------------------------------------------------------------


def test_same_seed_and_init_give_identical_histories(make_batches):
    config = TrainConfig(num_epochs=2, lr=0.1, seed=5, device="cpu")
    net = fresh_net(1)
    twin = copy.deepcopy(net)
    first = train(net, *make_batches(seed=0), config)
    torch.manual_seed(12345)  # the run must not depend on the RNG before it
    second = train(twin, *make_batches(seed=0), config)
    assert results(first) == results(second)
    for a, b in zip(net.parameters(), twin.parameters(), strict=True):
        assert torch.equal(a, b)


def test_different_seed_changes_the_dropout_masks(make_batches):
    net = fresh_net(1)
    twin = copy.deepcopy(net)
    a = train(net, *make_batches(), TrainConfig(1, lr=0.1, seed=1, device="cpu"))
    b = train(twin, *make_batches(), TrainConfig(1, lr=0.1, seed=2, device="cpu"))
    assert a.final.train_loss != b.final.train_loss


# --------------------------------------------------------------------------
# TrainConfig and pick_device
# --------------------------------------------------------------------------


def test_train_config_defaults():
    config = TrainConfig()
    assert (config.num_epochs, config.lr) == (10, 0.5)
    assert (config.weight_decay, config.seed, config.device) == (0.0, 0, None)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_epochs": -1}, "num_epochs"),
        ({"lr": 0.0}, "lr"),
        ({"lr": -0.1}, "lr"),
        ({"lr": math.nan}, "lr"),
        ({"num_epochs": -10}, "num_epochs"),
        ({"lr": -math.inf}, "lr"),
    ],
    ids=str,
)
def test_train_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_pick_device_returns_cpu_without_accelerators(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device() == torch.device("cpu")


def test_pick_device_default_on_this_machine():
    if torch.cuda.is_available():
        assert pick_device() == torch.device("cuda")
    elif torch.backends.mps.is_available():
        assert pick_device() == torch.device("mps")
    else:
        assert pick_device() == torch.device("cpu")


def test_pick_device_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device() == torch.device("mps")


@pytest.mark.parametrize("name", ["cpu", "cuda", "cuda:1", "mps", "meta"])
def test_pick_device_honours_an_explicit_preference(monkeypatch, name):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device(name) == torch.device(name)


@pytest.mark.parametrize("name", ["cuda", "cuda:1"])
def test_asking_for_a_missing_gpu_says_so(monkeypatch, name):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA GPU"):
        pick_device(name)


def test_train_uses_the_configured_device(monkeypatch, make_batches):
    chosen = []
    real = training_module.pick_device

    def spy(preferred=None):
        chosen.append(preferred)
        return real(preferred)

    monkeypatch.setattr(training_module, "pick_device", spy)
    train(fresh_net(), *make_batches(num_train=64), TrainConfig(1, device="cpu"))
    assert chosen[0] == "cpu"


# --------------------------------------------------------------------------
# Callbacks and interruption
# --------------------------------------------------------------------------


def test_keyboard_interrupt_in_epoch_callback_keeps_finished_epochs(
    make_batches, caplog
):
    seen = []

    def stop_in_epoch_two(history):
        seen.append(len(history))
        if len(history) == 2:
            raise KeyboardInterrupt

    config = TrainConfig(num_epochs=5, lr=0.1, device="cpu")
    with caplog.at_level(logging.WARNING, logger="dropout_utils.training"):
        history = train(
            fresh_net(), *make_batches(), config, on_epoch_end=stop_in_epoch_two
        )
    # Epoch 2 had finished (its stats were recorded) before the callback ran.
    assert seen == [1, 2]
    assert len(history) == 2
    assert history.column("epoch") == [1, 2]
    assert history.interrupted is True
    assert any("interrupted after 2 of 5" in r.getMessage() for r in caplog.records)


def test_keyboard_interrupt_mid_epoch_drops_the_unfinished_epoch(make_batches):
    train_iter, test_iter = make_batches()
    steps = []

    def stop_in_epoch_two(step, loss):
        steps.append(step)
        if len(steps) == len(train_iter) + 3:
            raise KeyboardInterrupt

    history = train(
        fresh_net(),
        train_iter,
        test_iter,
        TrainConfig(4, lr=0.1, device="cpu"),
        on_batch_end=stop_in_epoch_two,
    )
    assert len(history) == 1
    assert history.interrupted is True


def test_epoch_callback_sees_the_growing_history(make_batches):
    lengths, finals = [], []

    def record(history):
        lengths.append(len(history))
        finals.append(history.final.epoch)

    history = train(
        fresh_net(),
        *make_batches(num_train=128),
        TrainConfig(3, lr=0.1, device="cpu"),
        on_epoch_end=record,
    )
    assert lengths == [1, 2, 3]
    assert finals == [1, 2, 3]
    assert history.interrupted is False


def test_batch_callback_is_called_once_per_batch(make_batches):
    train_iter, test_iter = make_batches(num_train=200, batch_size=64)
    assert len(train_iter) == 4
    calls = []
    train(
        fresh_net(),
        train_iter,
        test_iter,
        TrainConfig(2, lr=0.1, device="cpu"),
        on_batch_end=lambda step, loss: calls.append((step, loss)),
    )
    assert [step for step, _ in calls] == [0, 1, 2, 3, 0, 1, 2, 3]
    assert all(isinstance(loss, float) and math.isfinite(loss) for _, loss in calls)


def test_other_exceptions_propagate(make_batches):
    def fail(history):
        raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        train(
            fresh_net(),
            *make_batches(num_train=64),
            TrainConfig(2, device="cpu"),
            on_epoch_end=fail,
        )
