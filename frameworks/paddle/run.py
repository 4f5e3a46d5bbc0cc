"""Run the chapter's PaddlePaddle code; store what it printed and learned.

Usage, from the repository root in the PaddlePaddle environment:
`.venvs/paddle/bin/python -m frameworks.paddle.run [--out DIR]`.
"""

import numpy as np

import paddle
from frameworks import common
from frameworks.paddle.model import (
    Net,
    accuracy,
    concise_net,
    dropout_layer,
    train_step_fn,
)


def main() -> None:
    args = common.parse_args("PaddlePaddle")
    paddle.set_device("cpu")
    run = common.Run("paddle", seed=args.seed, num_epochs=args.epochs)
    run.versions = {
        "paddlepaddle": paddle.__version__,
        "numpy": np.__version__,
    }

    paddle.seed(args.seed)
    X = paddle.arange(16, dtype="float32").reshape((2, 8))
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
        paddle.seed(args.seed)  # initial weights and masks
        net = build()
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
