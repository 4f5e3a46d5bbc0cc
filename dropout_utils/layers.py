"""Dropout written from scratch: a function and a module around it."""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn


def check_drop_prob(drop_prob: object) -> float:
    """Return `drop_prob` as a float, or raise if it is not a probability."""
    # bool is a subclass of int, so `True` would silently mean "drop all".
    if isinstance(drop_prob, bool) or not isinstance(drop_prob, numbers.Real):
        raise ValueError(
            f"drop_prob must be a number in the range [0, 1], got {drop_prob!r} "
            f"of type {type(drop_prob).__name__}"
        )
    value = float(drop_prob)
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(
            f"drop_prob must be in the range [0, 1] (the probability of "
            f"zeroing a unit), got {value}"
        )
    return value


def _check_input(X: object) -> None:
    if not isinstance(X, torch.Tensor):
        raise TypeError(
            f"dropout expects a torch.Tensor, got {type(X).__name__}; "
            "wrap the data with torch.as_tensor(..., dtype=torch.float32)"
        )
    if not X.is_floating_point():
        raise TypeError(
            f"dropout expects a floating-point tensor, got dtype {X.dtype}; "
            "convert it first, for example with X.float()"
        )


def dropout_layer(
    X: torch.Tensor,
    drop_prob: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Zero each element of `X` with probability `drop_prob`, rescale the rest.

    Args:
        X: a floating-point tensor of any shape, on any device.
        drop_prob: the probability p of zeroing an element, in [0, 1].
        generator: an optional `torch.Generator` that makes the mask
            reproducible without touching the global random state.

    Returns:
        A tensor of the same shape, dtype and device as `X`. At p = 0 it is
        `X` itself; at p = 1 it is all zeros.
    """
    drop_prob = check_drop_prob(drop_prob)
    _check_input(X)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator or None, got "
            f"{type(generator).__name__}; make one with "
            "torch.Generator().manual_seed(seed)"
        )
    if drop_prob == 0.0:
        return X
    if drop_prob == 1.0:
        # Every unit is dropped. Dividing by 1 - p would give 0 / 0 = NaN,
        # and X * 0 would be NaN where X is infinite, so fill with zeros
        # instead; masked_fill keeps autograd's link to X (a zero gradient).
        return X.masked_fill(torch.ones_like(X, dtype=torch.bool), 0.0)

    # One uniform number per element; an element survives when its number
    # is at least p, which happens with probability 1 - p. (On the CPU,
    # uniform numbers are about 3x faster to draw than `bernoulli_`.) The
    # numbers are drawn where the generator lives, since a CPU generator
    # cannot fill a CUDA tensor, and in float32 or better even for half
    # precision inputs, so that p is compared without rounding.
    mask_device = generator.device if generator is not None else X.device
    uniform_dtype = torch.float64 if X.dtype == torch.float64 else torch.float32
    uniform = torch.rand(
        X.shape, generator=generator, device=mask_device, dtype=uniform_dtype
    )
    keep = (uniform >= drop_prob).to(device=X.device, dtype=X.dtype)

    # Survivors are scaled by 1 / (1 - p), so that E[output] = X and the
    # next layer sees inputs of the same size in training and at test time.
    return X * keep.div_(1.0 - drop_prob)


class Dropout(nn.Module):
    """`dropout_layer` as a module: active in `train()` mode, identity in `eval()`."""

    def __init__(
        self, drop_prob: float, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        self.drop_prob = check_drop_prob(drop_prob)
        self.generator = generator

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return X
        return dropout_layer(X, self.drop_prob, self.generator)

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob}"
