"""Our TensorFlow dropout and Keras's layer against the shared properties."""

import pytest

import tensorflow as tf
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
from frameworks.tensorflow.model import dropout_layer
from tensorflow import keras


@pytest.fixture
def fw():
    return Framework(
        seed=keras.utils.set_random_seed,
        tensor=tf.constant,
        numpy=lambda t: t.numpy(),
        dropout_layer=dropout_layer,
        builtin=lambda X, p, training: keras.layers.Dropout(p)(
            X, training=training
        ),
    )
