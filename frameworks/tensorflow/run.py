"""Run the chapter's TensorFlow code; store what it printed and learned.

Usage, from the repository root in the TensorFlow environment:
`.venvs/tensorflow/bin/python -m frameworks.tensorflow.run [--out DIR]`.
"""

import numpy as np

import tensorflow as tf
from frameworks import common
from frameworks.tensorflow.model import (
    Net,
    accuracy,
    concise_net,
    dropout_layer,
    train_step_fn,
)
from tensorflow import keras


def train(name, net, data, args) -> list[common.Epoch]:
    train_step = train_step_fn(net, common.LR)
    return common.train_epochs(
        lambda X, y: [float(value) for value in train_step(X, y)],
        lambda X, y: accuracy(net, X, y),
        data,
        args.epochs,
        common.BATCH_SIZE,
        args.seed,
        name,
    )


def summary(net) -> str:
    lines = []
    net.summary(print_fn=lambda line, **kwargs: lines.append(line))
    return "\n".join(lines)


def main() -> None:
    args = common.parse_args("TensorFlow")
    run = common.Run("tensorflow", seed=args.seed, num_epochs=args.epochs)
    run.versions = {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }

    # The 2 x 8 demo: one seed, then the three probabilities in turn.
    keras.utils.set_random_seed(args.seed)
    X = tf.reshape(tf.range(16, dtype=tf.float32), (2, 8))
    for drop_prob in common.DEMO_PROBS:
        out = dropout_layer(X, drop_prob)
        run.add_demo(drop_prob, str(out), out.numpy())

    data = common.load_fashion_mnist()
    models = {
        "from scratch": lambda: Net(
            784, 10, 256, 256, common.DROPOUT1, common.DROPOUT2
        ),
        "concise": lambda: concise_net(common.DROPOUT1, common.DROPOUT2),
    }
    for name, build in models.items():
        keras.utils.set_random_seed(args.seed)  # initial weights and masks
        net = build()
        net(tf.zeros((1, 784)))  # create the weights
        run.add_model(name, summary(net), train(name, net, data, args))

    print("wrote", common.write_results(run, args.out))


if __name__ == "__main__":
    main()
