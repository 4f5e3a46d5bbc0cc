"""Dropout from scratch and with Keras's layer, in TensorFlow."""

import tensorflow as tf
from tensorflow import keras


def dropout_layer(X, drop_prob):
    if not 0 <= drop_prob <= 1:
        raise ValueError(f"need 0 <= drop_prob <= 1, got {drop_prob}")
    if drop_prob == 1:
        return tf.zeros_like(X)
    # mask is True where the element survives, False where it is dropped
    mask = tf.random.uniform(tf.shape(X)) > drop_prob
    return tf.cast(mask, X.dtype) * X / (1.0 - drop_prob)


class Net(keras.Model):
    def __init__(
        self,
        num_inputs,
        num_outputs,
        num_hiddens1,
        num_hiddens2,
        dropout1,
        dropout2,
    ):
        super().__init__()
        self.num_inputs = num_inputs
        self.dropout1, self.dropout2 = dropout1, dropout2
        self.lin1 = keras.layers.Dense(num_hiddens1, activation="relu")
        self.lin2 = keras.layers.Dense(num_hiddens2, activation="relu")
        self.lin3 = keras.layers.Dense(num_outputs)

    def call(self, X, training=False):
        H1 = self.lin1(tf.reshape(X, (-1, self.num_inputs)))
        if training:  # True in the training step only
            H1 = dropout_layer(H1, self.dropout1)
        H2 = self.lin2(H1)
        if training:
            H2 = dropout_layer(H2, self.dropout2)
        return self.lin3(H2)  # logits; softmax is part of the loss


def concise_net(dropout1, dropout2):
    # Keras's Dropout takes the probability of dropping, like nn.Dropout
    init = keras.initializers.RandomNormal(mean=0.0, stddev=0.01)
    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(
                256, activation="relu", kernel_initializer=init
            ),
            keras.layers.Dropout(dropout1),
            keras.layers.Dense(
                256, activation="relu", kernel_initializer=init
            ),
            keras.layers.Dropout(dropout2),
            keras.layers.Dense(10, kernel_initializer=init),
        ]
    )


def train_step_fn(net, lr):
    optimizer = keras.optimizers.SGD(learning_rate=lr)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function  # traced once into a graph: much faster than eager
    def train_step(X, y):
        with tf.GradientTape() as tape:
            y_hat = net(X, training=True)
            loss = loss_fn(y, y_hat)  # mean over the minibatch
        grads = tape.gradient(loss, net.trainable_variables)
        optimizer.apply_gradients(
            zip(grads, net.trainable_variables, strict=True)
        )
        correct = tf.reduce_sum(
            tf.cast(tf.argmax(y_hat, axis=1) == y, tf.float32)
        )
        return loss * tf.cast(tf.shape(X)[0], tf.float32), correct

    return train_step


def accuracy(net, X, y):
    y_hat = net(X, training=False)  # dropout off
    return float(
        tf.reduce_mean(tf.cast(tf.argmax(y_hat, axis=1) == y, tf.float32))
    )
