"""Property tests shared by every framework's dropout, as PyTorch's has them.

Each `frameworks/<name>/test_layer.py` defines a `fw` fixture, a `Framework`
that wraps its tensors and layers, and imports these tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

LARGE = 1_000_000  # elements for the statistical checks
PROBS = [0.2, 0.5, 0.8]


@dataclass
class Framework:
    """What the tests need from a framework."""

    seed: Callable[[int], None]
    tensor: Callable[[np.ndarray], object]  # float32 array -> tensor
    numpy: Callable[[object], np.ndarray]  # tensor -> array
    dropout_layer: Callable[[object, float], object]  # the from-scratch one
    # The framework's own dropout layer on a tensor, in training or not.
    builtin: Callable[[object, float, bool], object]


def tolerance(p: float, n: int) -> float:
    """Five standard deviations of the fraction of successes in n trials."""
    return 5 * math.sqrt(p * (1 - p) / n)


def ones(fw: Framework) -> object:
    return fw.tensor(np.ones((1000, LARGE // 1000), np.float32))


def test_p_zero_is_the_identity(fw):
    X = np.arange(16, dtype=np.float32).reshape(2, 8)
    np.testing.assert_array_equal(
        fw.numpy(fw.dropout_layer(fw.tensor(X), 0)), X
    )


@pytest.mark.parametrize("shape", [(7,), (2, 8), (2, 3, 4)])
def test_p_one_gives_zeros_of_the_same_shape(fw, shape):
    X = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    out = fw.numpy(fw.dropout_layer(fw.tensor(X), 1))
    assert out.shape == shape
    np.testing.assert_array_equal(out, np.zeros(shape))


@pytest.mark.parametrize("p", PROBS)
def test_dropped_fraction_is_p(fw, p):
    fw.seed(0)
    out = fw.numpy(fw.dropout_layer(ones(fw), p))
    assert abs((out == 0).mean() - p) < tolerance(p, out.size)


@pytest.mark.parametrize("p", PROBS)
def test_survivors_are_scaled_and_the_mean_is_preserved(fw, p):
    fw.seed(1)
    out = fw.numpy(fw.dropout_layer(ones(fw), p))
    survivors = out[out != 0]
    np.testing.assert_allclose(survivors, 1 / (1 - p), rtol=1e-6)
    # Each output is 1 / (1 - p) with probability 1 - p, else 0: mean 1 and
    # standard deviation sqrt(p / (1 - p)).
    assert abs(out.mean() - 1) < 5 * math.sqrt(p / (1 - p) / out.size)


@pytest.mark.parametrize("p", [-0.1, 1.5, math.nan])
def test_bad_p_is_rejected(fw, p):
    with pytest.raises(ValueError, match="drop_prob"):
        fw.dropout_layer(fw.tensor(np.ones(4, np.float32)), p)


@pytest.mark.parametrize("p", PROBS)
def test_builtin_layer_drops_a_fraction_p_and_keeps_the_mean(fw, p):
    # Catches a layer that takes the probability of keeping instead.
    fw.seed(2)
    out = fw.numpy(fw.builtin(ones(fw), p, True))
    assert abs((out == 0).mean() - p) < tolerance(p, out.size)
    assert abs(out.mean() - 1) < 5 * math.sqrt(p / (1 - p) / out.size)


def test_builtin_layer_is_the_identity_outside_training(fw):
    X = np.random.default_rng(3).normal(size=(4, 5)).astype(np.float32)
    out = fw.numpy(fw.builtin(fw.tensor(X), 0.5, False))
    np.testing.assert_array_equal(out, X)
