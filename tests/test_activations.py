"""Activation statistics recorded through forward hooks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dropout_utils import ActivationStats


def small_net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Dropout(0.5), nn.Linear(7, 2))


def test_pooled_mean_and_variance_match_torch_over_several_batches():
    net = small_net().eval()
    batches = [torch.randn(n, 5) for n in (3, 10, 1, 64)]
    with ActivationStats({"relu": net[1]}) as stats:
        outputs = [net[1](net[0](X)) for X in batches]
    everything = torch.cat(outputs).detach().double()
    summary = stats.summary()["relu"]
    assert summary["count"] == everything.numel()
    assert summary["mean"] == pytest.approx(float(everything.mean()), rel=1e-9)
    assert summary["var"] == pytest.approx(
        float(everything.var(unbiased=False)), rel=1e-9
    )


def test_the_merge_is_stable_for_a_large_offset():
    layer = nn.Identity()
    with ActivationStats([layer]) as stats:
        for _ in range(100):
            layer(1e8 + torch.randn(1000, dtype=torch.float64))
    assert stats.summary()["layer 1"]["var"] == pytest.approx(1.0, rel=0.05)


def test_when_train_skips_evaluation_passes_and_hooks_are_removed():
    net = small_net()
    X = torch.randn(8, 5)
    stats = ActivationStats({"relu": net[1]}, when="train")
    with stats:
        net.train()(X)
        net.eval()(X)
    assert stats.summary()["relu"]["count"] == 8 * 7
    net.train()(X)  # after the block: no hook left
    assert stats.summary()["relu"]["count"] == 8 * 7
    assert len(net[1]._forward_hooks) == 0


def test_dropout_raises_the_variance_it_passes_on():
    torch.manual_seed(0)
    dropout = nn.Dropout(0.5)
    X = torch.rand(100_000) + 1.0
    with ActivationStats({"in": nn.Identity(), "out": dropout}) as stats:
        dropout(X)
    var = stats.summary()["out"]["var"]
    # Var[dropout(x)] = Var[x] + p / (1 - p) E[x^2] with p = 0.5.
    expected = float(X.var(unbiased=False) + (X**2).mean())
    assert var == pytest.approx(expected, rel=0.02)


def test_reset_and_empty_statistics():
    layer = nn.Identity()
    stats = ActivationStats([layer]).attach()
    layer(torch.ones(3))
    stats.reset()
    summary = stats.summary()["layer 1"]
    assert summary["count"] == 0
    assert summary["mean"] != summary["mean"]  # NaN: nothing recorded
    stats.detach()


def test_gradients_are_unaffected_by_the_hooks():
    net = small_net().eval()
    X = torch.randn(4, 5)
    net(X).sum().backward()
    plain = net[0].weight.grad.clone()
    net.zero_grad()
    with ActivationStats([net[1]]):
        net(X).sum().backward()
    torch.testing.assert_close(net[0].weight.grad, plain)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="empty"):
        ActivationStats({})
    with pytest.raises(TypeError, match=r"not an nn\.Module"):
        ActivationStats({"x": torch.ones(2)})
    with pytest.raises(TypeError, match="mapping"):
        ActivationStats(nn.ReLU())
    with pytest.raises(ValueError, match="when must be"):
        ActivationStats([nn.ReLU()], when="sometimes")

    class Pair(nn.Module):
        def forward(self, X):
            return X, X

    pair = Pair()
    with ActivationStats([pair]), pytest.raises(TypeError, match="return a tensor"):
        pair(torch.ones(2))
