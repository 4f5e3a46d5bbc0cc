"""Our MindSpore dropout and its nn.Dropout against the shared properties."""

import pytest

import mindspore as ms
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
from frameworks.mindspore.model import dropout_layer


def builtin(X, p, training):
    layer = ms.nn.Dropout(p=p)  # not Dropout(p): its first argument keeps
    layer.set_train(training)
    return layer(X)


@pytest.fixture
def fw():
    ms.set_device("CPU")
    return Framework(
        seed=ms.set_seed,
        tensor=lambda array: ms.Tensor(array, ms.float32),
        numpy=lambda t: t.asnumpy(),
        dropout_layer=dropout_layer,
        builtin=builtin,
    )


def test_the_first_argument_of_nn_dropout_is_the_keep_probability():
    ms.set_seed(0)
    X = ms.ops.ones((1000, 1000), ms.float32)
    layer = ms.nn.Dropout(0.2)  # keep_prob=0.2: drops 80 %
    layer.set_train(True)
    assert abs((layer(X).asnumpy() == 0).mean() - 0.8) < 0.01
