"""The from-scratch DropoutMLP and the concise nn.Sequential version."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import nn

from dropout_utils import DropoutMLP, concise_mlp, copy_weights, init_normal

P1, P2 = 0.2, 0.5


def expected_param_count(*sizes: int) -> int:
    """Weights plus biases of a fully connected net with these layer widths."""
    return sum(n_in * n_out + n_out for n_in, n_out in itertools.pairwise(sizes))


def num_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@pytest.fixture(params=["scratch", "concise"])
def net(request) -> nn.Module:
    torch.manual_seed(0)
    return DropoutMLP() if request.param == "scratch" else concise_mlp()


@pytest.fixture
def images() -> torch.Tensor:
    return torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(1))


def test_formula_helper():
    assert expected_param_count(2, 3) == 2 * 3 + 3


@pytest.mark.parametrize("batch", [1, 5, 32])
def test_output_shape(net, batch):
    X = torch.rand(batch, 1, 28, 28)
    for mode in (True, False):
        net.train(mode)
        out = net(X)
        assert out.shape == (batch, 10)
        assert out.dtype == torch.float32
        assert torch.isfinite(out).all()


def test_parameter_count(net):
    expected = expected_param_count(784, 256, 256, 10)
    assert expected == 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10
    assert num_params(net) == expected
    assert all(p.requires_grad for p in net.parameters())


def test_parameter_count_with_custom_sizes():
    assert num_params(DropoutMLP(20, 3, 8, 6)) == expected_param_count(20, 8, 6, 3)
    net = concise_mlp(num_inputs=20, num_hiddens1=8, num_hiddens2=6, num_outputs=3)
    assert num_params(net) == expected_param_count(20, 8, 6, 3)
    assert DropoutMLP(20, 3, 8, 6)(torch.rand(4, 20)).shape == (4, 3)


def test_eval_mode_is_deterministic(net, images):
    net.eval()
    torch.manual_seed(1)
    a = net(images)
    torch.manual_seed(2)
    b = net(images)
    assert torch.equal(a, b)


def test_train_mode_is_stochastic(net, images):
    net.train()
    a, b = net(images), net(images)
    assert not torch.allclose(a, b)


def test_train_mode_is_reproducible_with_the_global_seed(net, images):
    net.train()
    torch.manual_seed(7)
    a = net(images)
    torch.manual_seed(7)
    b = net(images)
    assert torch.equal(a, b)


def test_eval_turns_dropout_off_for_dropout_mlp(images):
    torch.manual_seed(0)
    net = DropoutMLP()
    net.eval()
    # With dropout off the net is the plain three-layer MLP.
    X = images.reshape(-1, 784)
    expected = net.lin3(torch.relu(net.lin2(torch.relu(net.lin1(X)))))
    torch.testing.assert_close(net(images), expected, rtol=0, atol=0)
    net.train()
    assert not torch.allclose(net(images), expected)
    net.eval()
    torch.testing.assert_close(net(images), expected, rtol=0, atol=0)


def test_dropout_probabilities_of_zero_make_train_mode_deterministic(images):
    torch.manual_seed(0)
    net = DropoutMLP(dropout1=0.0, dropout2=0.0).train()
    assert torch.equal(net(images), net.eval()(images))


def test_copy_weights_gives_identical_outputs_in_eval_mode(images):
    torch.manual_seed(0)
    source = concise_mlp()
    target = DropoutMLP()
    assert not torch.allclose(source.eval()(images), target.eval()(images))
    copy_weights(source, target)
    source.eval()
    target.eval()
    torch.testing.assert_close(target(images), source(images), rtol=0, atol=0)
    # The copy is independent: changing the source afterwards changes nothing.
    with torch.no_grad():
        source[1].weight.add_(1.0)
    assert not torch.equal(target.lin1.weight, source[1].weight)


def test_copy_weights_rejects_a_source_with_other_layers():
    with pytest.raises(ValueError, match="3 linear layers"):
        copy_weights(nn.Sequential(nn.Linear(784, 10)), DropoutMLP())


# --------------------------------------------------------------------------
# Dropped fractions in train mode
# --------------------------------------------------------------------------


def _check_fraction(before: torch.Tensor, after: torch.Tensor, p: float) -> None:
    """Among the units that were positive before dropout, about p were zeroed."""
    active = before > 0
    n = int(active.sum())
    assert n > 10_000  # enough units for the tolerance below
    dropped = (after[active] == 0).double().mean().item()
    assert abs(dropped - p) < 5 * math.sqrt(p * (1 - p) / n)
    # Units that were zero stay zero; the survivors are scaled by 1 / (1 - p).
    assert (after[~active] == 0).all()
    kept = active & (after != 0)
    torch.testing.assert_close(after[kept], before[kept] / (1 - p))


def test_dropout_mlp_drops_the_right_fractions():
    torch.manual_seed(0)
    net = DropoutMLP().train()
    seen = {}
    # lin2's input is H1 after dropout; lin2's output (through ReLU) is H2
    # before dropout; lin3's input is H2 after dropout.
    net.lin2.register_forward_pre_hook(lambda m, args: seen.update(h1_after=args[0]))
    net.lin2.register_forward_hook(lambda m, args, out: seen.update(h2_before=out))
    net.lin3.register_forward_pre_hook(lambda m, args: seen.update(h2_after=args[0]))

    X = torch.rand(512, 1, 28, 28)
    with torch.no_grad():
        net(X)
        h1_before = torch.relu(net.lin1(X.reshape(-1, 784)))
    _check_fraction(h1_before, seen["h1_after"], P1)
    _check_fraction(torch.relu(seen["h2_before"]), seen["h2_after"], P2)


def test_concise_mlp_drops_the_right_fractions():
    torch.manual_seed(0)
    net = concise_mlp().train()
    dropouts = [m for m in net if isinstance(m, nn.Dropout)]
    assert [m.p for m in dropouts] == [P1, P2]
    records = []
    for module in dropouts:
        module.register_forward_hook(
            lambda m, args, out: records.append((args[0], out))
        )
    # Weights of std 0.01 give tiny activations; scale the input up so that
    # the ReLUs let through enough positive units to count.
    X = torch.rand(512, 1, 28, 28) * 100
    with torch.no_grad():
        net(X)
    assert len(records) == 2
    for (before, after), p in zip(records, (P1, P2), strict=True):
        _check_fraction(before, after, p)


def test_custom_probabilities_are_used():
    net = DropoutMLP(dropout1=0.7, dropout2=0.1)
    assert (net.dropout1, net.dropout2) == (0.7, 0.1)
    concise = concise_mlp(0.7, 0.1)
    assert [m.p for m in concise if isinstance(m, nn.Dropout)] == [0.7, 0.1]


# --------------------------------------------------------------------------
# Initialisation and validation
# --------------------------------------------------------------------------


def test_concise_mlp_weights_are_small_normal_with_zero_biases():
    torch.manual_seed(0)
    net = concise_mlp()
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert len(linears) == 3
    for layer in linears:
        w = layer.weight.detach().double()
        # The sample std of n normal draws has a standard error of std/sqrt(2n).
        se = 0.01 / math.sqrt(2 * w.numel())
        assert abs(w.std().item() - 0.01) < 6 * se
        assert abs(w.mean().item()) < 6 * 0.01 / math.sqrt(w.numel())
        assert torch.equal(layer.bias, torch.zeros_like(layer.bias))


def test_init_normal_only_touches_linear_layers():
    torch.manual_seed(0)
    conv = nn.Conv2d(1, 1, 3)
    before = conv.weight.detach().clone()
    init_normal(conv)
    assert torch.equal(conv.weight, before)
    linear = nn.Linear(300, 300)
    init_normal(linear, std=0.5)
    assert abs(linear.weight.std().item() - 0.5) < 0.01
    assert torch.equal(linear.bias, torch.zeros(300))


BAD = [-0.1, 1.5, math.nan, True, "0.2", None]


@pytest.mark.parametrize("bad", BAD, ids=repr)
def test_bad_dropout_probabilities_raise_value_error(bad):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        DropoutMLP(dropout1=bad)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        DropoutMLP(dropout2=bad)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        concise_mlp(dropout1=bad)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        concise_mlp(dropout2=bad)
