"""Forward hooks that record the mean and variance of chosen layers' outputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

RECORD_WHEN = ("always", "train", "eval")


@dataclass
class LayerStats:
    """Mean and variance of every output element seen so far, pooled."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0  # sum of squared deviations from the mean

    @property
    def var(self) -> float:
        """Population variance; NaN before anything was recorded."""
        return self.m2 / self.count if self.count else float("nan")

    def add(self, values: torch.Tensor) -> None:
        """Merge a batch of values into the running statistics."""
        # float64 on the values' own device: no precision lost over many
        # batches, and no copy of a large activation tensor to the CPU.
        values = values.detach().to(torch.float64).reshape(-1)
        n = values.numel()
        if n == 0:
            return
        batch_mean = values.mean()
        batch_m2 = float(((values - batch_mean) ** 2).sum())
        batch_mean = float(batch_mean)
        # Chan et al.'s merge of two (count, mean, M2) summaries: unlike
        # accumulating sums of squares, it does not cancel catastrophically.
        total = self.count + n
        delta = batch_mean - self.mean
        self.mean += delta * n / total
        self.m2 += batch_m2 + delta**2 * self.count * n / total
        self.count = total


class ActivationStats:
    """Record the mean and variance of some layers' outputs through forward hooks.

    Each layer's statistics pool every element of every output seen (all
    examples and all units) until `reset()`. Use it as a context manager, so
    that the hooks are removed however the block ends::

        with ActivationStats({"hidden 1": net[2], "hidden 2": net[5]}) as stats:
            net(X)
        stats.summary()  # {"hidden 1": {"mean": ..., "var": ...}, ...}

    Args:
        layers: the modules to watch, as a name -> module mapping or a
            sequence (then named "layer 1", "layer 2", ...).
        when: "always", or only "train" / "eval": record a forward call only
            when the watched module is in that mode. This keeps, for example,
            the test-set evaluation inside a training loop out of the
            training-time statistics.
    """

    def __init__(
        self,
        layers: Mapping[str, nn.Module] | Sequence[nn.Module],
        when: str = "always",
    ) -> None:
        if isinstance(layers, Mapping):
            named = dict(layers)
        elif isinstance(layers, Sequence) and not isinstance(layers, str):
            named = {f"layer {i}": layer for i, layer in enumerate(layers, 1)}
        else:
            raise TypeError(
                "layers must be a mapping of names to modules or a list of "
                f"modules, got {type(layers).__name__}"
            )
        if not named:
            raise ValueError("layers is empty: name at least one module to watch")
        for name, layer in named.items():
            if not isinstance(layer, nn.Module):
                raise TypeError(
                    f"layer {name!r} is a {type(layer).__name__}, not an "
                    "nn.Module; pass the module itself, e.g. net[2]"
                )
        if when not in RECORD_WHEN:
            raise ValueError(f"when must be one of {RECORD_WHEN}, got {when!r}")
        self.layers = named
        self.when = when
        self.stats = {name: LayerStats() for name in named}
        self._handles: list = []

    def _hook(self, name: str):
        def record(module: nn.Module, inputs, output) -> None:
            if self.when == "train" and not module.training:
                return
            if self.when == "eval" and module.training:
                return
            if not isinstance(output, torch.Tensor):
                raise TypeError(
                    f"layer {name!r} returned a {type(output).__name__}; "
                    "ActivationStats can only watch layers that return a tensor"
                )
            self.stats[name].add(output)

        return record

    def attach(self) -> ActivationStats:
        if not self._handles:
            self._handles = [
                layer.register_forward_hook(self._hook(name))
                for name, layer in self.layers.items()
            ]
        return self

    def detach(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> ActivationStats:
        return self.attach()

    def __exit__(self, *exc_info) -> None:
        self.detach()

    def reset(self) -> None:
        self.stats = {name: LayerStats() for name in self.layers}

    def summary(self) -> dict[str, dict[str, float]]:
        """{layer name: {"mean", "var", "count"}} of what was recorded."""
        return {
            name: {
                "mean": s.mean if s.count else float("nan"),
                "var": s.var,
                "count": s.count,
            }
            for name, s in self.stats.items()
        }
