"""DropConnect and Gaussian noise layers: statistics, modes, errors, gradients."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dropout_utils import (
    DropConnectLinear,
    GaussianNoise,
    dropout_layer,
    dropout_matching_std,
)


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --------------------------------------------------------------------------
# DropConnectLinear
# --------------------------------------------------------------------------


def test_dropconnect_is_a_plain_linear_layer_in_eval_mode():
    torch.manual_seed(0)
    layer = DropConnectLinear(6, 4, 0.5).eval()
    X = torch.randn(3, 6)
    torch.testing.assert_close(layer(X), F.linear(X, layer.weight, layer.bias))


def test_dropconnect_at_p_zero_matches_linear_in_train_mode():
    torch.manual_seed(0)
    layer = DropConnectLinear(6, 4, 0.0).train()
    X = torch.randn(3, 6)
    torch.testing.assert_close(layer(X), F.linear(X, layer.weight, layer.bias))


def test_dropconnect_at_p_one_leaves_only_the_bias():
    layer = DropConnectLinear(5, 3, 1.0).train()
    X = torch.randn(4, 5)
    torch.testing.assert_close(layer(X), layer.bias.expand(4, 3))


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropconnect_drops_the_right_fraction_and_keeps_the_mean(p):
    layer = DropConnectLinear(400, 500, p, generator=seeded(1))
    with torch.no_grad():
        layer.weight.fill_(1.0)
        masked = layer.masked_weight()
    dropped = float((masked == 0).float().mean())
    n = masked.numel()
    assert dropped == pytest.approx(p, abs=5 * math.sqrt(p * (1 - p) / n))
    # Survivors are scaled by 1 / (1 - p): the expected weight is unchanged.
    kept = masked[masked != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, 1 / (1 - p)))
    assert float(masked.mean()) == pytest.approx(1.0, abs=0.02)


def test_dropconnect_shares_one_mask_across_the_minibatch():
    layer = DropConnectLinear(50, 20, 0.5, bias=False, generator=seeded(0))
    X = torch.randn(1, 50).expand(8, 50)  # the same example eight times
    out = layer(X)
    assert torch.equal(out, out[:1].expand(8, 20))


def test_dropconnect_masks_are_reproducible_with_a_generator():
    torch.manual_seed(0)
    first = DropConnectLinear(30, 10, 0.5, generator=seeded(7))
    second = DropConnectLinear(30, 10, 0.5, generator=seeded(7))
    second.load_state_dict(first.state_dict())
    X = torch.randn(4, 30)
    assert torch.equal(first(X), second(X))
    assert not torch.equal(first(X), first(X))  # a new mask every call


def test_dropconnect_gradients_reach_only_kept_weights():
    layer = DropConnectLinear(20, 10, 0.5, generator=seeded(3))
    generator_copy = seeded(3)
    X = torch.randn(5, 20)
    layer(X).sum().backward()
    # Redraw the same mask (DropConnect is dropout on the weights) to know
    # which weights were kept.
    keep = dropout_layer(torch.ones(layer.weight.shape), 0.5, generator_copy) != 0
    assert torch.all(layer.weight.grad[~keep] == 0)
    assert torch.all(layer.weight.grad[keep] != 0)
    assert layer.bias.grad is not None


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dropconnect_keeps_dtype_and_device(dtype):
    layer = DropConnectLinear(8, 3, 0.3, dtype=dtype)
    out = layer(torch.randn(2, 8, dtype=dtype))
    assert out.dtype == dtype
    assert out.device == layer.weight.device


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_dropconnect_runs_on_the_gpu():
    layer = DropConnectLinear(8, 3, 0.3).cuda()
    out = layer(torch.randn(2, 8, device="cuda"))
    assert out.device.type == "cuda"


def test_dropconnect_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        DropConnectLinear(4, 2, 1.5)
    with pytest.raises(TypeError, match=r"torch\.Generator"):
        DropConnectLinear(4, 2, 0.5, generator=42)
    layer = DropConnectLinear(4, 2, 0.5)
    with pytest.raises(ValueError, match="in_features=4"):
        layer(torch.randn(3, 5))
    with pytest.raises(TypeError, match="floating-point"):
        layer(torch.ones(3, 4, dtype=torch.int64))
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        layer([[1.0, 2.0, 3.0, 4.0]])


def test_dropconnect_repr_names_the_probability():
    assert "drop_prob=0.25" in repr(DropConnectLinear(4, 2, 0.25))


# --------------------------------------------------------------------------
# GaussianNoise
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["multiplicative", "additive"])
def test_gaussian_noise_is_the_identity_in_eval_mode(mode):
    layer = GaussianNoise(0.7, mode).eval()
    X = torch.randn(4, 5)
    assert layer(X) is X


def test_gaussian_noise_at_zero_std_is_the_identity():
    X = torch.randn(4, 5)
    assert GaussianNoise(0.0).train()(X) is X


@pytest.mark.parametrize("std", [0.5, 1.0])
def test_multiplicative_noise_keeps_the_mean_and_scales_with_the_input(std):
    layer = GaussianNoise(std, "multiplicative", generator=seeded(0))
    X = torch.full((1_000_000,), 2.0)
    out = layer(X)
    assert float(out.mean()) == pytest.approx(2.0, abs=0.01)
    # Var[x (1 + std eps)] = std^2 x^2.
    assert float(out.var()) == pytest.approx(std**2 * 4.0, rel=0.01)


def test_additive_noise_has_the_same_variance_whatever_the_input():
    layer = GaussianNoise(0.5, "additive", generator=seeded(0))
    for value in (0.0, 3.0):
        out = layer(torch.full((1_000_000,), value))
        assert float(out.mean()) == pytest.approx(value, abs=0.01)
        assert float(out.var()) == pytest.approx(0.25, rel=0.01)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_matching_std_gives_dropout_the_same_variance(p):
    X = torch.full((1_000_000,), 1.5)
    noisy = GaussianNoise(dropout_matching_std(p), generator=seeded(1))(X)
    torch.manual_seed(1)
    dropped = nn.Dropout(p)(X)
    assert float(noisy.var()) == pytest.approx(float(dropped.var()), rel=0.02)
    assert dropout_matching_std(0.5) == pytest.approx(1.0)


def test_gaussian_noise_is_reproducible_and_keeps_dtype():
    X = torch.randn(3, 4, dtype=torch.float64)
    first = GaussianNoise(0.3, generator=seeded(5))(X)
    second = GaussianNoise(0.3, generator=seeded(5))(X)
    assert torch.equal(first, second)
    assert first.dtype == torch.float64


def test_gaussian_noise_passes_gradients_through_the_noise():
    X = torch.randn(6, requires_grad=True)
    layer = GaussianNoise(0.5, "multiplicative", generator=seeded(2))
    layer(X).sum().backward()
    eps = torch.randn(6, generator=seeded(2))
    torch.testing.assert_close(X.grad, 1 + 0.5 * eps)


def test_gaussian_noise_rejects_bad_input():
    with pytest.raises(ValueError, match="mode must be one of"):
        GaussianNoise(0.5, "sideways")
    for std in (-1.0, math.inf, math.nan, True, "0.5"):
        with pytest.raises(ValueError, match="std must be"):
            GaussianNoise(std)
    with pytest.raises(TypeError, match="floating-point"):
        GaussianNoise(0.5)(torch.ones(3, dtype=torch.int32))
    with pytest.raises(ValueError, match="below 1"):
        dropout_matching_std(1.0)
