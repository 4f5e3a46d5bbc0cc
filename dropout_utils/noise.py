"""Other ways to inject noise: DropConnect and Gaussian noise layers."""

from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F
from torch import nn

from .layers import check_drop_prob, dropout_layer

NOISE_MODES = ("multiplicative", "additive")


def _check_float_tensor(X: object, layer: str) -> None:
    if not isinstance(X, torch.Tensor):
        raise TypeError(
            f"{layer} expects a torch.Tensor, got {type(X).__name__}; "
            "wrap the data with torch.as_tensor(..., dtype=torch.float32)"
        )
    if not X.is_floating_point():
        raise TypeError(
            f"{layer} expects a floating-point tensor, got dtype {X.dtype}; "
            "convert it first, for example with X.float()"
        )


def _check_generator(generator: object) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator or None, got "
            f"{type(generator).__name__}; make one with "
            "torch.Generator().manual_seed(seed)"
        )


class DropConnectLinear(nn.Linear):
    """A linear layer that drops individual *weights* while training.

    Dropout zeroes a unit, which is the same as zeroing a whole column of the
    next layer's weight matrix; DropConnect zeroes single weights instead.
    The kept weights are scaled by 1 / (1 - p) so that the expected weight
    matrix is the trained one, and evaluation mode uses it as is.

    One mask is drawn per forward call, that is per minibatch, and shared by
    every example in it. A mask per example would need a (batch, out, in)
    tensor, 256 times the weights for a minibatch of 256, and a batched
    matrix product instead of one; sharing the mask keeps the layer as cheap
    as a plain linear layer, at the price of noise that is correlated across
    the minibatch. The bias is never dropped.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        drop_prob: float,
        bias: bool = True,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(in_features, out_features, bias, device=device, dtype=dtype)
        self.drop_prob = check_drop_prob(drop_prob)
        _check_generator(generator)
        self.generator = generator

    def masked_weight(self) -> torch.Tensor:
        """The weight matrix with a fresh DropConnect mask applied."""
        # DropConnect is dropout applied to the weight matrix instead of the
        # activations: each weight is zeroed with probability p and the
        # survivors are scaled by 1 / (1 - p), so the expected weight is kept.
        # Autograd sends gradient only to the weights that survived.
        return dropout_layer(self.weight, self.drop_prob, self.generator)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        _check_float_tensor(X, "DropConnectLinear")
        if X.ndim == 0 or X.shape[-1] != self.in_features:
            raise ValueError(
                f"DropConnectLinear expects inputs whose last dimension is "
                f"in_features={self.in_features}, got shape {tuple(X.shape)}; "
                "flatten the input first, for example with nn.Flatten()"
            )
        if not self.training:
            return F.linear(X, self.weight, self.bias)
        return F.linear(X, self.masked_weight(), self.bias)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, drop_prob={self.drop_prob}"


def check_noise_std(std: object) -> float:
    """Return `std` as a float, or raise if it is not a finite number >= 0."""
    if isinstance(std, bool) or not isinstance(std, numbers.Real):
        raise ValueError(
            f"std must be a finite number >= 0, got {std!r} "
            f"of type {type(std).__name__}"
        )
    value = float(std)
    if not 0.0 <= value < math.inf:
        raise ValueError(f"std must be a finite number >= 0, got {value}")
    return value


def dropout_matching_std(drop_prob: float) -> float:
    """The std of multiplicative noise with the variance of dropout at `drop_prob`.

    Dropout multiplies a unit by 0 or 1 / (1 - p): a factor of mean 1 and
    variance p / (1 - p). Gaussian noise 1 + std * eps has the same mean and
    variance when std = sqrt(p / (1 - p)).
    """
    drop_prob = check_drop_prob(drop_prob)
    if drop_prob == 1.0:
        raise ValueError(
            "drop_prob = 1 drops everything: no Gaussian noise has that "
            "(infinite) variance; use a drop_prob below 1"
        )
    return math.sqrt(drop_prob / (1.0 - drop_prob))


class GaussianNoise(nn.Module):
    """Gaussian noise on activations while training; the identity in `eval()`.

    `mode="multiplicative"` returns X * (1 + std * eps), which keeps the mean
    of every unit and scales its noise with its size, like dropout does;
    `mode="additive"` returns X + std * eps, noise of the same size for
    every unit. Here eps is standard normal noise, drawn per element.
    """

    def __init__(
        self,
        std: float,
        mode: str = "multiplicative",
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if mode not in NOISE_MODES:
            raise ValueError(f"mode must be one of {NOISE_MODES}, got {mode!r}")
        _check_generator(generator)
        self.std = check_noise_std(std)
        self.mode = mode
        self.generator = generator

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        _check_float_tensor(X, "GaussianNoise")
        if not self.training or self.std == 0.0:
            return X
        noise_device = self.generator.device if self.generator is not None else X.device
        noise_dtype = torch.float64 if X.dtype == torch.float64 else torch.float32
        eps = torch.randn(
            X.shape, generator=self.generator, device=noise_device, dtype=noise_dtype
        ).to(device=X.device, dtype=X.dtype)
        if self.mode == "multiplicative":
            return X * (1.0 + self.std * eps)
        return X + self.std * eps

    def extra_repr(self) -> str:
        return f"std={self.std:.4g}, mode={self.mode!r}"
