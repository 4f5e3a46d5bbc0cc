"""Dropout from scratch and with MindSpore's layer, in MindSpore."""

from mindspore.common.initializer import Normal

import mindspore as ms
from mindspore import nn, ops


def dropout_layer(X, drop_prob):
    if not 0 <= drop_prob <= 1:
        raise ValueError(f"need 0 <= drop_prob <= 1, got {drop_prob}")
    if drop_prob == 1:
        return ops.zeros_like(X)
    # mask is True where the element survives, False where it is dropped
    mask = ops.rand(X.shape) > drop_prob
    return mask.astype(X.dtype) * X / (1.0 - drop_prob)


class Net(nn.Cell):
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
        self.lin1 = nn.Dense(num_inputs, num_hiddens1, activation="relu")
        self.lin2 = nn.Dense(num_hiddens1, num_hiddens2, activation="relu")
        self.lin3 = nn.Dense(num_hiddens2, num_outputs)

    def construct(self, X):
        H1 = self.lin1(X.reshape((-1, self.num_inputs)))
        if self.training:  # set by net.set_train(True), cleared by False
            H1 = dropout_layer(H1, self.dropout1)
        H2 = self.lin2(H1)
        if self.training:
            H2 = dropout_layer(H2, self.dropout2)
        return self.lin3(H2)  # logits; softmax is part of the loss


def concise_net(dropout1, dropout2):
    # nn.Dropout's first argument is keep_prob, the probability of keeping
    # a unit; name p= to give the probability of dropping it instead
    return nn.SequentialCell(
        nn.Flatten(),
        nn.Dense(784, 256, weight_init=Normal(0.01), activation="relu"),
        nn.Dropout(p=dropout1),
        nn.Dense(256, 256, weight_init=Normal(0.01), activation="relu"),
        nn.Dropout(p=dropout2),
        nn.Dense(256, 10, weight_init=Normal(0.01)),
    )


def train_step_fn(net, lr):
    loss_fn = nn.CrossEntropyLoss()  # mean over the minibatch
    optimizer = nn.SGD(net.trainable_params(), learning_rate=lr)

    def forward(X, y):
        y_hat = net(X)
        return loss_fn(y_hat, y), y_hat

    grad_fn = ms.value_and_grad(
        forward, None, optimizer.parameters, has_aux=True
    )

    @ms.jit  # compiled into a graph once: much faster than step by step
    def step(X, y):
        (loss, y_hat), grads = grad_fn(X, y)
        optimizer(grads)
        correct = (y_hat.argmax(axis=1) == y).astype(ms.float32).sum()
        return loss, correct

    def train_step(X, y):
        net.set_train(True)
        loss, correct = step(ms.Tensor(X), ms.Tensor(y.astype("int32")))
        return float(loss) * X.shape[0], float(correct)

    return train_step


def accuracy(net, X, y):
    net.set_train(False)  # dropout off
    y_hat = net(ms.Tensor(X))
    return float((y_hat.argmax(axis=1).asnumpy() == y).mean())
