"""Monte Carlo dropout: keep only the dropout layers on at test time."""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterator

import torch
from torch import nn

from .layers import Dropout

#: Module types that Monte Carlo dropout switches on. Every other module
#: (batch normalisation, our other noise layers...) stays in evaluation mode.
DROPOUT_TYPES: tuple[type[nn.Module], ...] = (
    nn.Dropout,
    nn.Dropout1d,
    nn.Dropout2d,
    nn.Dropout3d,
    nn.AlphaDropout,
    nn.FeatureAlphaDropout,
    Dropout,
)


@contextlib.contextmanager
def mc_dropout(net: nn.Module) -> Iterator[nn.Module]:
    """Within the block, `net` is in eval mode except for its dropout modules.

    Every submodule's own mode is restored afterwards, even on an error.

    Raises:
        ValueError: when `net` has no dropout module. A model that applies
            dropout as a function guarded by its own `self.training`, like
            `DropoutMLP`, cannot be switched this way: its dropout and the
            rest of the model share one flag.
    """
    if not isinstance(net, nn.Module):
        raise TypeError(f"net must be an nn.Module, got {type(net).__name__}")
    dropouts = [m for m in net.modules() if isinstance(m, DROPOUT_TYPES)]
    if not dropouts:
        raise ValueError(
            "the model has no dropout module to switch on (looked for "
            + ", ".join(t.__name__ for t in DROPOUT_TYPES)
            + "); build it with dropout layers such as nn.Dropout"
        )
    modes = {module: module.training for module in net.modules()}
    try:
        net.eval()
        for module in dropouts:
            module.train()
        yield net
    finally:
        for module, mode in modes.items():
            module.training = mode


def mc_predict(
    net: nn.Module,
    X: torch.Tensor,
    num_samples: int,
    *,
    batch_size: int = 2048,
) -> torch.Tensor:
    """Class probabilities of `num_samples` stochastic passes with dropout on.

    Args:
        net: a classifier with dropout modules, returning logits.
        X: the inputs, a floating-point tensor (moved to the model's device).
        num_samples: T, the number of passes (each draws fresh masks from
            the global random generator; seed it for reproducible results).
        batch_size: inputs per forward call, to bound memory.

    Returns:
        A tensor of shape (T, N, num_classes) of softmax probabilities on
        the model's device; `.mean(0)` is the Monte Carlo average.
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral):
        raise TypeError(f"num_samples must be an int, got {num_samples!r}")
    if num_samples < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}")
    if not isinstance(X, torch.Tensor) or not X.is_floating_point():
        raise TypeError(
            "X must be a floating-point torch.Tensor, got "
            + (f"dtype {X.dtype}" if isinstance(X, torch.Tensor) else type(X).__name__)
        )
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int)
        or batch_size < 1
    ):
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    first = next(net.parameters(), None)
    device = first.device if first is not None else X.device
    samples = []
    with mc_dropout(net), torch.inference_mode():
        for _ in range(num_samples):
            probs = [
                torch.softmax(net(X[i : i + batch_size].to(device)), dim=-1)
                for i in range(0, len(X), batch_size)
            ]
            samples.append(torch.cat(probs))  # (N, num_classes)
    return torch.stack(samples)  # (T, N, num_classes)
