"""Run the chapter's MindSpore code; store what it printed and learned.

Usage, from the repository root in the MindSpore environment:
`.venvs/mindspore/bin/python -m frameworks.mindspore.run [--out DIR]`.
"""

import numpy as np

import mindspore as ms
from frameworks import common
from frameworks.mindspore.model import (
    Net,
    accuracy,
    concise_net,
    dropout_layer,
    train_step_fn,
)
from mindspore import ops


def main() -> None:
    args = common.parse_args("MindSpore")
    ms.set_device("CPU")
    run = common.Run("mindspore", seed=args.seed, num_epochs=args.epochs)
    run.versions = {"mindspore": ms.__version__, "numpy": np.__version__}

    ms.set_seed(args.seed)
    X = ops.arange(16, dtype=ms.float32).reshape((2, 8))
    for drop_prob in common.DEMO_PROBS:
        out = dropout_layer(X, drop_prob)
        run.add_demo(drop_prob, str(out), out.asnumpy())

    data = common.load_fashion_mnist()
    models = {
        "from scratch": lambda: Net(
            784, 10, 256, 256, common.DROPOUT1, common.DROPOUT2
        ),
        "concise": lambda: concise_net(common.DROPOUT1, common.DROPOUT2),
    }
    for name, build in models.items():
        ms.set_seed(args.seed)  # initial weights and masks
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
