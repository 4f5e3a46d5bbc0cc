"""Dropout from scratch and with Gluon's layer, in MXNet."""

from mxnet.gluon import nn

from mxnet import autograd, gluon, init, nd


def dropout_layer(X, drop_prob):
    if not 0 <= drop_prob <= 1:
        raise ValueError(f"need 0 <= drop_prob <= 1, got {drop_prob}")
    if drop_prob == 1:
        return nd.zeros_like(X)
    # mask is 1 where the element survives, 0 where it is dropped
    mask = nd.random.uniform(0, 1, X.shape, ctx=X.context) > drop_prob
    return mask.astype(X.dtype) * X / (1.0 - drop_prob)


class Net(nn.Block):
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
        self.lin1 = nn.Dense(num_hiddens1, activation="relu")
        self.lin2 = nn.Dense(num_hiddens2, activation="relu")
        self.lin3 = nn.Dense(num_outputs)

    def forward(self, X):
        H1 = self.lin1(X.reshape((-1, self.num_inputs)))
        if autograd.is_training():  # True only inside train_mode/record
            H1 = dropout_layer(H1, self.dropout1)
        H2 = self.lin2(H1)
        if autograd.is_training():
            H2 = dropout_layer(H2, self.dropout2)
        return self.lin3(H2)  # logits; softmax is part of the loss


def concise_net(dropout1, dropout2):
    # Gluon's Dropout takes the probability of dropping (`rate`)
    net = nn.HybridSequential()
    net.add(
        nn.Dense(256, activation="relu"),
        nn.Dropout(dropout1),
        nn.Dense(256, activation="relu"),
        nn.Dropout(dropout2),
        nn.Dense(10),
    )
    net.initialize(init.Normal(sigma=0.01))
    net.hybridize()  # compile to a static graph on the first call
    return net


def train_step_fn(net, lr):
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})

    def train_step(X, y):
        X, y = nd.array(X), nd.array(y)
        with autograd.record():  # records the graph, training mode on
            y_hat = net(X)
            loss = loss_fn(y_hat, y)  # one value per example
        loss.backward()
        trainer.step(X.shape[0])  # divides the summed gradient by the batch
        correct = (y_hat.argmax(axis=1) == y.astype("float32")).sum()
        return loss.sum().asscalar(), correct.asscalar()

    return train_step


def accuracy(net, X, y):
    y_hat = net(nd.array(X))  # outside record(): dropout off
    return (y_hat.argmax(axis=1).asnumpy() == y).mean()
