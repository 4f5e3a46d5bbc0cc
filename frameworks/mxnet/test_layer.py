"""Our MXNet dropout and Gluon's layer against the shared properties."""

import pytest
from mxnet.gluon import nn

import mxnet as mx
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
from frameworks.mxnet.model import dropout_layer
from mxnet import autograd, nd


def builtin(X, p, training):
    layer = nn.Dropout(p)
    with autograd.train_mode() if training else autograd.predict_mode():
        return layer(X)


@pytest.fixture
def fw():
    return Framework(
        seed=mx.random.seed,
        tensor=lambda array: nd.array(array, dtype="float32"),
        numpy=lambda t: t.asnumpy(),
        dropout_layer=dropout_layer,
        builtin=builtin,
    )
