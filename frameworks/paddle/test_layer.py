"""Our Paddle dropout and its nn.Dropout against the shared properties."""

import numpy as np
import pytest

import paddle
from frameworks.layer_checks import (  # noqa: F401 (tests run by pytest)
    Framework,
    test_bad_p_is_rejected,
    test_builtin_layer_drops_a_fraction_p_and_keeps_the_mean,
    test_builtin_layer_is_the_identity_outside_training,
    test_dropped_fraction_is_p,
    test_p_one_gives_zeros_of_the_same_shape,
    test_p_zero_is_the_identity,
    test_survivors_are_scaled_and_the_mean_is_preserved,
)
from frameworks.paddle.model import dropout_layer


def builtin(X, p, training):
    layer = paddle.nn.Dropout(p)
    layer.train() if training else layer.eval()
    return layer(X)


@pytest.fixture
def fw():
    paddle.set_device("cpu")
    return Framework(
        seed=paddle.seed,
        tensor=lambda array: paddle.to_tensor(array, dtype="float32"),
        numpy=lambda t: np.asarray(t.numpy()),
        dropout_layer=dropout_layer,
        builtin=builtin,
    )
