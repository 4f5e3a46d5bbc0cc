"""The chapter's two multilayer perceptrons: from scratch and concise."""

from __future__ import annotations

import torch
from torch import nn

from .layers import check_drop_prob, dropout_layer


class DropoutMLP(nn.Module):
    """784-256-256-10 MLP with our own dropout after each hidden activation.

    Dropout runs only while `self.training` is True, so `net.eval()` turns it
    off and `net.train()` turns it back on, exactly as for built-in layers.
    """

    def __init__(
        self,
        num_inputs: int = 784,
        num_outputs: int = 10,
        num_hiddens1: int = 256,
        num_hiddens2: int = 256,
        dropout1: float = 0.2,
        dropout2: float = 0.5,
    ) -> None:
        super().__init__()
        self.num_inputs = num_inputs
        self.dropout1 = check_drop_prob(dropout1)
        self.dropout2 = check_drop_prob(dropout2)
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        X = X.reshape(-1, self.num_inputs)  # (batch, 784)
        H1 = torch.relu(self.lin1(X))  # (batch, num_hiddens1)
        if self.training:
            H1 = dropout_layer(H1, self.dropout1)
        H2 = torch.relu(self.lin2(H1))  # (batch, num_hiddens2)
        if self.training:
            H2 = dropout_layer(H2, self.dropout2)
        return self.lin3(H2)  # (batch, num_outputs) logits


def init_normal(module: nn.Module, std: float = 0.01) -> None:
    """Draw a linear layer's weights from N(0, std^2); zero its biases."""
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, mean=0.0, std=std)
        nn.init.zeros_(module.bias)


def concise_mlp(
    dropout1: float = 0.2,
    dropout2: float = 0.5,
    num_inputs: int = 784,
    num_hiddens1: int = 256,
    num_hiddens2: int = 256,
    num_outputs: int = 10,
) -> nn.Sequential:
    """The same MLP from built-in layers, weights drawn from N(0, 0.01^2)."""
    net = nn.Sequential(
        nn.Flatten(),
        nn.Linear(num_inputs, num_hiddens1),
        nn.ReLU(),
        nn.Dropout(check_drop_prob(dropout1)),
        nn.Linear(num_hiddens1, num_hiddens2),
        nn.ReLU(),
        nn.Dropout(check_drop_prob(dropout2)),
        nn.Linear(num_hiddens2, num_outputs),
    )
    net.apply(init_normal)
    return net


def copy_weights(source: nn.Sequential, target: DropoutMLP) -> None:
    """Load the linear layers of a `concise_mlp` into a `DropoutMLP`."""
    source_linears = [m for m in source if isinstance(m, nn.Linear)]
    target_linears = [target.lin1, target.lin2, target.lin3]
    if len(source_linears) != len(target_linears):
        raise ValueError(
            f"expected 3 linear layers in the source, found {len(source_linears)}"
        )
    with torch.no_grad():
        for src, dst in zip(source_linears, target_linears, strict=True):
            dst.weight.copy_(src.weight)
            dst.bias.copy_(src.bias)
