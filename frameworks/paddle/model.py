"""Dropout from scratch and with Paddle's layer, in PaddlePaddle."""

import paddle
from paddle import nn


def dropout_layer(X, drop_prob):
    if not 0 <= drop_prob <= 1:
        raise ValueError(f"need 0 <= drop_prob <= 1, got {drop_prob}")
    if drop_prob == 1:
        return paddle.zeros_like(X)
    # mask is True where the element survives, False where it is dropped
    mask = paddle.rand(X.shape) > drop_prob
    return mask.astype(X.dtype) * X / (1.0 - drop_prob)


class Net(nn.Layer):
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
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)

    def forward(self, X):
        H1 = paddle.nn.functional.relu(
            self.lin1(X.reshape((-1, self.num_inputs)))
        )
        if self.training:  # set by net.train(), cleared by net.eval()
            H1 = dropout_layer(H1, self.dropout1)
        H2 = paddle.nn.functional.relu(self.lin2(H1))
        if self.training:
            H2 = dropout_layer(H2, self.dropout2)
        return self.lin3(H2)  # logits; softmax is part of the loss


def concise_net(dropout1, dropout2):
    # nn.Dropout(p) drops with probability p and rescales while training
    # (mode="upscale_in_train", the default since Paddle 2.0)
    weight = paddle.ParamAttr(initializer=nn.initializer.Normal(0.0, 0.01))
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256, weight_attr=weight),
        nn.ReLU(),
        nn.Dropout(dropout1),
        nn.Linear(256, 256, weight_attr=weight),
        nn.ReLU(),
        nn.Dropout(dropout2),
        nn.Linear(256, 10, weight_attr=weight),
    )


def train_step_fn(net, lr):
    loss_fn = nn.CrossEntropyLoss()  # mean over the minibatch
    optimizer = paddle.optimizer.SGD(
        learning_rate=lr, parameters=net.parameters()
    )

    def train_step(X, y):
        net.train()
        X, y = paddle.to_tensor(X), paddle.to_tensor(y)
        y_hat = net(X)
        loss = loss_fn(y_hat, y)
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        correct = (y_hat.argmax(axis=1) == y).astype("float32").sum()
        return float(loss) * X.shape[0], float(correct)

    return train_step


def accuracy(net, X, y):
    net.eval()  # dropout off
    with paddle.no_grad():
        y_hat = net(paddle.to_tensor(X))
    return float((y_hat.argmax(axis=1).numpy() == y).mean())
