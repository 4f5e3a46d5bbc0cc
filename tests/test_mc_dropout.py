"""Monte Carlo dropout: only dropout switched on, modes restored afterwards."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import dropout_utils as du
from dropout_utils import mc_dropout, mc_predict


def net_with_batchnorm() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(6, 16),
        nn.BatchNorm1d(16),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(16, 8),
        nn.ReLU(),
        du.Dropout(0.3),
        nn.Linear(8, 3),
    )


def test_only_the_dropout_modules_train_inside_the_block():
    net = net_with_batchnorm().train()
    with mc_dropout(net):
        modes = {type(m).__name__: m.training for m in net}
        assert net.training is False
    assert modes == {
        "Linear": False,
        "BatchNorm1d": False,
        "ReLU": False,
        "Dropout": True,
    }


@pytest.mark.parametrize("start", ["train", "eval", "mixed"])
def test_every_mode_is_restored_even_after_an_error(start):
    net = net_with_batchnorm()
    if start == "eval":
        net.eval()
    elif start == "mixed":
        net[1].eval()
        net[6].eval()
    before = [m.training for m in net.modules()]
    with pytest.raises(RuntimeError, match="boom"), mc_dropout(net):
        raise RuntimeError("boom")
    assert [m.training for m in net.modules()] == before


def test_predictions_vary_between_passes_and_average_close_to_eval():
    net = net_with_batchnorm()
    net.train()(torch.randn(64, 6))  # give batch norm some running stats
    X = torch.randn(20, 6)
    torch.manual_seed(1)
    probs = mc_predict(net, X, num_samples=400)
    assert probs.shape == (400, 20, 3)
    torch.testing.assert_close(probs.sum(-1), torch.ones(400, 20))
    assert float(probs.std(0).mean()) > 0.01  # passes differ
    # Batch norm used its running statistics, not the batch's: a single
    # example gives the same distribution as in a batch of twenty.
    torch.manual_seed(1)
    alone = mc_predict(net, X[:1], num_samples=400)
    torch.testing.assert_close(alone.mean(0), probs.mean(0)[:1], atol=0.05, rtol=0)
    assert net.training is True


def test_seeded_passes_are_reproducible_and_batching_does_not_matter():
    net = net_with_batchnorm().eval()
    X = torch.randn(10, 6)
    torch.manual_seed(3)
    first = mc_predict(net, X, 5)
    torch.manual_seed(3)
    second = mc_predict(net, X, 5)
    assert torch.equal(first, second)
    small = mc_predict(net, X, 2, batch_size=3)
    assert small.shape == (2, 10, 3)


def test_output_keeps_the_model_dtype():
    net = net_with_batchnorm().double().eval()
    probs = mc_predict(net, torch.randn(4, 6, dtype=torch.float64), 3)
    assert probs.dtype == torch.float64


def test_a_model_without_dropout_modules_is_refused_with_a_reason():
    with (
        pytest.raises(ValueError, match="no dropout module"),
        mc_dropout(du.DropoutMLP()),
    ):
        pass
    with pytest.raises(TypeError, match=r"nn\.Module"), mc_dropout("net"):
        pass


def test_bad_arguments_raise_clear_errors():
    net = net_with_batchnorm()
    X = torch.randn(4, 6)
    with pytest.raises(ValueError, match="at least 1"):
        mc_predict(net, X, 0)
    with pytest.raises(TypeError, match="int"):
        mc_predict(net, X, 2.5)
    with pytest.raises(TypeError, match="floating-point"):
        mc_predict(net, torch.ones(4, 6, dtype=torch.int64), 2)
    with pytest.raises(ValueError, match="batch_size"):
        mc_predict(net, X, 2, batch_size=0)
