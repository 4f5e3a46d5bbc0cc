"""Run the chapter's MXNet code; store what it printed and learned.

Usage, from the repository root in the MXNet environment:
`.venvs/mxnet/bin/python -m frameworks.mxnet.run [--out DIR]`.
"""

import random

import numpy as np

import mxnet as mx
from frameworks import common
from frameworks.mxnet.model import (
    Net,
    accuracy,
    concise_net,
    dropout_layer,
    train_step_fn,
)
from mxnet import nd


def seed_everything(seed: int) -> None:
    mx.random.seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def main() -> None:
    args = common.parse_args("MXNet")
    run = common.Run("mxnet", seed=args.seed, num_epochs=args.epochs)
    run.versions = {"mxnet": mx.__version__, "numpy": np.__version__}

    seed_everything(args.seed)
    X = nd.arange(16).reshape((2, 8))
    for drop_prob in common.DEMO_PROBS:
        out = dropout_layer(X, drop_prob)
        run.add_demo(drop_prob, str(out), out.asnumpy())

    data = common.load_fashion_mnist()
    for name in ("from scratch", "concise"):
        seed_everything(args.seed)  # initial weights and masks
        if name == "concise":
            net = concise_net(common.DROPOUT1, common.DROPOUT2)
        else:
            net = Net(784, 10, 256, 256, common.DROPOUT1, common.DROPOUT2)
            net.initialize()
        train_step = train_step_fn(net, common.LR)
        epochs = common.train_epochs(
            train_step,
            lambda X, y, net=net: accuracy(net, X, y),
            data,
            args.epochs,
            common.BATCH_SIZE,
            args.seed,
            name,
        )
        run.add_model(name, str(net), epochs)

    print("wrote", common.write_results(run, args.out))


if __name__ == "__main__":
    main()
