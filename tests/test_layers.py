"""Our dropout (function and module) against theory and against torch's own."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dropout_utils import Dropout, check_drop_prob, dropout_layer

LARGE = 1_000_000  # elements for the statistical checks
PROBS = [0.1, 0.2, 0.5, 0.8]


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def binomial_tolerance(p: float, n: int, num_std: float = 5.0) -> float:
    """`num_std` standard deviations of the fraction of successes in n trials."""
    return num_std * math.sqrt(p * (1 - p) / n)


# --------------------------------------------------------------------------
# p = 0, p = 1 and eval mode
# --------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0, 0.0])
def test_p_zero_returns_the_very_same_tensor(p):
    X = torch.randn(4, 5)
    assert dropout_layer(X, p) is X
    assert dropout_layer(X, p, generator=seeded(0)) is X


def test_module_at_p_zero_in_train_mode_returns_the_same_tensor():
    layer = Dropout(0.0).train()
    X = torch.randn(3, 3)
    assert layer(X) is X


@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 1.0])
def test_module_in_eval_mode_is_the_identity(p):
    layer = Dropout(p).eval()
    X = torch.randn(8, 16)
    assert layer(X) is X
    # And matches torch's built-in layer, which is also the identity in eval.
    torch.testing.assert_close(layer(X), nn.Dropout(p).eval()(X), rtol=0, atol=0)


@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 4, 5), (0, 3)])
def test_p_one_gives_zeros_of_the_same_shape(shape):
    X = torch.randn(shape)
    out = dropout_layer(X, 1.0)
    assert out.shape == X.shape
    assert torch.equal(out, torch.zeros(shape))
    # torch agrees on ordinary inputs.
    assert torch.equal(out, F.dropout(X, 1.0, training=True))


@pytest.mark.parametrize(
    "value", [math.inf, -math.inf, math.nan, 3e38, -3e38, 1e-45], ids=repr
)
def test_p_one_gives_exact_zeros_even_for_inf_nan_and_huge_inputs(value):
    X = torch.full((64,), value)
    out = dropout_layer(X, 1)
    assert not torch.isnan(out).any()
    assert torch.equal(out, torch.zeros(64))
    # Every element is dropped, so none may carry a sign or a NaN payload.
    assert (out == 0).all()


def test_module_at_p_one_in_train_mode_gives_zeros():
    X = torch.full((5, 5), math.inf)
    assert torch.equal(Dropout(1.0)(X), torch.zeros(5, 5))


def test_output_is_a_new_tensor_and_input_is_not_modified():
    X = torch.randn(100)
    before = X.clone()
    out = dropout_layer(X, 0.5, generator=seeded(0))
    assert out is not X
    assert torch.equal(X, before)


# --------------------------------------------------------------------------
# Statistics on a large tensor, against theory and against nn.Dropout
# --------------------------------------------------------------------------


@pytest.mark.parametrize("p", PROBS)
def test_dropped_fraction_is_close_to_p(p):
    X = torch.ones(LARGE)
    ours = dropout_layer(X, p, generator=seeded(1))
    torch.manual_seed(2)
    theirs = nn.Dropout(p).train()(X)

    ours_frac = (ours == 0).double().mean().item()
    theirs_frac = (theirs == 0).double().mean().item()
    tol = binomial_tolerance(p, LARGE)
    assert abs(ours_frac - p) < tol
    assert abs(theirs_frac - p) < tol
    # Two independent fractions differ by sqrt(2) standard deviations at most.
    assert abs(ours_frac - theirs_frac) < math.sqrt(2) * tol


@pytest.mark.parametrize("p", PROBS)
def test_survivors_are_scaled_by_one_over_one_minus_p(p):
    X = torch.rand(10_000, dtype=torch.float64) + 0.5  # no zeros in the input
    out = dropout_layer(X, p, generator=seeded(3))
    kept = out != 0
    assert 0 < kept.sum() < X.numel()
    torch.testing.assert_close(out[kept], X[kept] / (1 - p))
    # torch's layer applies the same scaling.
    torch.manual_seed(4)
    theirs = F.dropout(X, p, training=True)
    theirs_kept = theirs != 0
    torch.testing.assert_close(theirs[theirs_kept], X[theirs_kept] / (1 - p))


def _moments(out: torch.Tensor) -> tuple[float, float]:
    out = out.double()
    return out.mean().item(), out.var(unbiased=True).item()


@pytest.mark.parametrize("p", PROBS)
def test_mean_and_variance_match_theory_and_nn_dropout(p):
    h = 2.5
    X = torch.full((LARGE,), h)
    ours_mean, ours_var = _moments(dropout_layer(X, p, generator=seeded(5)))
    torch.manual_seed(6)
    theirs_mean, theirs_var = _moments(nn.Dropout(p).train()(X))

    # E[h'] = h and Var[h'] = p / (1 - p) * h^2.
    expected_mean = h
    expected_var = p / (1 - p) * h**2
    # h' = c * B with c = h / (1 - p) and B ~ Bernoulli(q), q = 1 - p.
    c, q = h / (1 - p), 1 - p
    mean_se = c * math.sqrt(p * q / LARGE)
    # Delta method for the sample variance of c * B; the floor covers p = 0.5,
    # where the first-order term vanishes.
    var_se = c**2 * math.sqrt(p * q * (1 - 4 * p * q) / LARGE)
    var_tol = 5 * var_se + 1e-3 * expected_var

    for mean, var in ((ours_mean, ours_var), (theirs_mean, theirs_var)):
        assert abs(mean - expected_mean) < 5 * mean_se
        assert abs(var - expected_var) < var_tol
    assert abs(ours_mean - theirs_mean) < 5 * math.sqrt(2) * mean_se
    assert abs(ours_var - theirs_var) < math.sqrt(2) * var_tol


def test_mean_is_preserved_elementwise_over_many_draws():
    """E[h'_i] = h_i for each unit i, with different h_i (averaged over draws)."""
    p = 0.5
    h = torch.tensor([-3.0, -0.5, 0.0, 1.0, 4.0], dtype=torch.float64)
    draws = 200_000
    X = h.expand(draws, -1)
    out = dropout_layer(X, p, generator=seeded(7))
    se = h.abs() * math.sqrt(p / (1 - p)) / math.sqrt(draws)
    assert torch.all((out.mean(dim=0) - h).abs() <= 5 * se + 1e-12)


# --------------------------------------------------------------------------
# Gradients
# --------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 0.9])
def test_gradient_flows_only_through_kept_units(p):
    X = (torch.rand(2_000, dtype=torch.float64) + 0.5).requires_grad_()
    out = dropout_layer(X, p, generator=seeded(8))
    out.backward(torch.ones_like(out))
    kept = out.detach() != 0
    expected = kept.to(X.dtype) / (1 - p)
    torch.testing.assert_close(X.grad, expected)
    if p > 0:
        assert (~kept).any() and kept.any()


def test_gradient_matches_nn_dropout_for_the_same_mask():
    p = 0.4
    X = (torch.rand(500, dtype=torch.float64) + 0.5).requires_grad_()
    out = dropout_layer(X, p, generator=seeded(9))
    (grad_ours,) = torch.autograd.grad(out.sum(), X)
    torch.manual_seed(10)
    theirs = F.dropout(X, p, training=True)
    (grad_theirs,) = torch.autograd.grad(theirs.sum(), X)
    # Both are 0 or 1/(1-p); which units are kept differs, the values do not.
    assert set(grad_ours.unique().tolist()) == set(grad_theirs.unique().tolist())
    assert set(grad_ours.unique().tolist()) == {0.0, 1 / (1 - p)}


def test_gradient_at_p_one_is_zero_like_nn_dropout():
    """At p = 1 every unit is dropped: the gradient must be 0, not missing.

    nn.Dropout(p=1) keeps the output attached to the autograd graph (the
    gradient w.r.t. its input is all zeros). A layer whose output is detached
    breaks `loss.backward()` when the dropout output is the only path.
    """
    X = torch.randn(10, requires_grad=True)
    theirs = F.dropout(X, 1.0, training=True)
    assert theirs.requires_grad

    out = dropout_layer(X, 1.0)
    assert out.requires_grad, "dropout_layer(X, 1.0) is detached from the graph"
    out.sum().backward()
    assert torch.equal(X.grad, torch.zeros(10))


# --------------------------------------------------------------------------
# Reproducibility with torch.Generator
# --------------------------------------------------------------------------


def test_same_seed_gives_the_same_mask():
    X = torch.ones(1_000)
    a = dropout_layer(X, 0.5, generator=seeded(123))
    b = dropout_layer(X, 0.5, generator=seeded(123))
    assert torch.equal(a, b)


def test_different_seeds_give_different_masks():
    X = torch.ones(1_000)
    a = dropout_layer(X, 0.5, generator=seeded(1))
    b = dropout_layer(X, 0.5, generator=seeded(2))
    assert not torch.equal(a, b)


def test_one_generator_gives_fresh_masks_on_each_call():
    X = torch.ones(1_000)
    generator = seeded(5)
    a = dropout_layer(X, 0.5, generator=generator)
    b = dropout_layer(X, 0.5, generator=generator)
    assert not torch.equal(a, b)


def test_generator_leaves_the_global_rng_untouched():
    torch.manual_seed(42)
    state = torch.get_rng_state()
    dropout_layer(torch.ones(1_000), 0.5, generator=seeded(0))
    Dropout(0.5, generator=seeded(0)).train()(torch.ones(1_000))
    assert torch.equal(torch.get_rng_state(), state)


def test_without_generator_the_global_rng_is_used_and_seedable():
    X = torch.ones(1_000)
    torch.manual_seed(11)
    state = torch.get_rng_state()
    a = dropout_layer(X, 0.5)
    assert not torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(11)
    b = dropout_layer(X, 0.5)
    assert torch.equal(a, b)


def test_module_with_generator_is_reproducible():
    X = torch.ones(64, 32)
    a = Dropout(0.3, generator=seeded(99)).train()(X)
    b = Dropout(0.3, generator=seeded(99)).train()(X)
    assert torch.equal(a, b)
    assert (a == 0).any()


# --------------------------------------------------------------------------
# dtype and device
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64]
)
@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_dtype_is_kept(dtype, p):
    X = (torch.rand(2_000) + 0.5).to(dtype)
    out = dropout_layer(X, p, generator=seeded(0))
    assert out.dtype == dtype
    assert out.shape == X.shape
    kept = out != 0
    if p < 1:
        assert kept.any()
        expected = (X[kept].double() / (1 - p)).to(dtype)
        torch.testing.assert_close(out[kept], expected)
    else:
        assert not kept.any()


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_cpu_device_is_kept(p):
    X = torch.randn(10, device="cpu")
    assert dropout_layer(X, p).device == torch.device("cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_cuda_device_and_dtype_are_kept(dtype):
    X = torch.ones(100_000, device="cuda", dtype=dtype)
    for generator in (None, seeded(0), torch.Generator("cuda").manual_seed(0)):
        out = dropout_layer(X, 0.5, generator=generator)
        assert out.device == X.device
        assert out.dtype == dtype
        frac = (out == 0).float().mean().item()
        assert abs(frac - 0.5) < binomial_tolerance(0.5, X.numel())
    # A CPU generator makes CUDA masks reproducible too.
    a = dropout_layer(X, 0.5, generator=seeded(3))
    b = dropout_layer(X, 0.5, generator=seeded(3))
    assert torch.equal(a, b)
    assert dropout_layer(X, 1.0).device == X.device
    assert dropout_layer(X, 0.0) is X


# --------------------------------------------------------------------------
# Argument validation
# --------------------------------------------------------------------------

BAD_PROBS = [-0.1, 1.5, math.nan, math.inf, -math.inf, True, False, "0.5", None]


@pytest.mark.parametrize("p", BAD_PROBS, ids=repr)
def test_bad_probability_raises_value_error_naming_the_range(p):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        dropout_layer(torch.ones(3), p)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Dropout(p)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        check_drop_prob(p)


@pytest.mark.parametrize(
    ("p", "expected"),
    [(0, 0.0), (1, 1.0), (0.25, 0.25), (np.float32(0.5), 0.5), (np.int64(1), 1.0)],
    ids=repr,
)
def test_valid_probabilities_are_returned_as_float(p, expected):
    value = check_drop_prob(p)
    assert type(value) is float
    assert value == expected


@pytest.mark.parametrize(
    ("X", "hint"),
    [
        ([1.0, 2.0, 3.0], "torch.Tensor"),
        (np.ones(3, dtype=np.float32), "torch.Tensor"),
        (torch.arange(3), "floating-point"),
        (torch.ones(3, dtype=torch.bool), "floating-point"),
        (torch.ones(3, dtype=torch.uint8), "floating-point"),
    ],
    ids=["list", "ndarray", "int64", "bool", "uint8"],
)
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_wrong_input_kind_raises_type_error_with_help(X, hint, p):
    with pytest.raises(TypeError, match=hint) as info:
        dropout_layer(X, p)
    message = str(info.value)
    # The message names what was received and how to fix it.
    if hint == "torch.Tensor":
        assert type(X).__name__ in message
        assert "torch.as_tensor" in message
    else:
        assert str(X.dtype) in message
        assert ".float()" in message


def test_module_rejects_wrong_input_in_train_mode():
    with pytest.raises(TypeError, match="floating-point"):
        Dropout(0.5).train()(torch.arange(4))


# --------------------------------------------------------------------------
# The module
# --------------------------------------------------------------------------


def test_module_repr_shows_the_probability():
    assert repr(Dropout(0.5)) == "Dropout(drop_prob=0.5)"
    assert repr(Dropout(1)) == "Dropout(drop_prob=1.0)"
    layer = Dropout(0.2)
    assert type(layer.drop_prob) is float
    assert layer.drop_prob == 0.2


def test_module_train_eval_switch():
    layer = Dropout(0.5, generator=seeded(0))
    assert layer.training  # modules start in training mode
    X = torch.ones(1_000)

    out = layer(X)
    assert (out == 0).any() and (out == 2).any()
    assert set(out.unique().tolist()) == {0.0, 2.0}

    assert layer.eval() is layer
    assert not layer.training
    assert layer(X) is X

    layer.train()
    assert layer.training
    assert (layer(X) == 0).any()


def test_module_has_no_parameters_and_works_inside_sequential():
    layer = Dropout(0.5)
    assert list(layer.parameters()) == []
    net = nn.Sequential(nn.Linear(4, 4), layer)
    net.eval()
    assert not layer.training
    X = torch.randn(2, 4)
    torch.testing.assert_close(net(X), net[0](X))


# --------------------------------------------------------------------------
# The 16-bit masks of dropout_layer (see the comment in layers.py)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("lane", range(4))
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_each_16_bit_lane_of_a_random_word_drops_at_rate_p(p, lane):
    # Four mask entries share one 64-bit random word: every quarter of it,
    # its sign bit included, must be uniform, or some positions would be
    # dropped more often than others.
    out = dropout_layer(torch.ones(4 * LARGE // 4), p, generator=seeded(11))
    frac = float((out.view(-1, 4)[:, lane] == 0).double().mean())
    assert abs(frac - p) < binomial_tolerance(p, LARGE // 4)


@pytest.mark.parametrize("numel", [1, 3, 5, 7, 1001])
def test_sizes_that_are_not_a_multiple_of_four(numel):
    X = torch.ones(numel)
    outs = torch.stack([dropout_layer(X, 0.5, generator=seeded(s)) for s in range(64)])
    assert outs.shape == (64, numel)
    assert set(outs.unique().tolist()) <= {0.0, 2.0}
    # Every position is dropped sometimes and kept sometimes over 64 draws.
    assert ((outs == 0).any(dim=0) & (outs == 2).any(dim=0)).all()


def test_probabilities_below_the_mask_resolution_round_to_the_nearest_level():
    X = torch.ones(1_000)
    assert dropout_layer(X, 1e-6) is X  # rounds to p = 0: nothing dropped
    almost_one = dropout_layer(X, 1 - 1e-6)  # rounds to p = 1: all dropped
    assert torch.equal(almost_one, torch.zeros_like(X))
    # The smallest representable p, 1/65536, does drop elements.
    out = dropout_layer(torch.ones(4 * LARGE), 1 / 65536, generator=seeded(2))
    assert 0 < int((out == 0).sum()) < 200  # about 61 expected
