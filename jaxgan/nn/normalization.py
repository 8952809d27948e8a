"""Normalization of a network's layers, chosen by name (`config.d_norm`).

  none           plain layers
  batch_norm     BatchNorm after each hidden layer (Ioffe & Szegedy 2015)
  layer_norm     LayerNorm after each hidden layer (Ba et al. 2016)
  spectral_norm  every weight divided by its largest singular value, estimated by one
                 step of power iteration per training call (Miyato et al. 2018)

Spectral normalization uses flax.linen's `SpectralNorm` wrapper: it keeps the raw
weight as the parameter and its power-iteration state (`u`, `sigma`) in the
`batch_stats` collection, which the train step threads like BatchNorm's statistics:
updated in training, frozen in evaluation.
"""

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.runtime.errors import UserError

NORMS = ("none", "batch_norm", "layer_norm", "spectral_norm")


def check(kind: str, field: str = "d_norm") -> None:
    if kind not in NORMS:
        raise UserError(f"config.{field} must be one of {list(NORMS)}, got {kind!r}")


def batch_norm(train: bool, dtype: jnp.dtype, **kwargs) -> nn.BatchNorm:
    # PyTorch's BatchNorm defaults (DCGAN's reference): momentum 0.1 (Flax counts
    # 1 - 0.1), eps 1e-5.
    return nn.BatchNorm(
        use_running_average=not train, momentum=0.9, epsilon=1e-5, dtype=dtype, **kwargs
    )


def hidden_norm(kind: str, train: bool, dtype: jnp.dtype, **kwargs) -> Callable:
    """The layer applied after a hidden layer's weights (identity for none/spectral)."""
    if kind == "batch_norm":
        return batch_norm(train, dtype, **kwargs)
    if kind == "layer_norm":
        return nn.LayerNorm(dtype=dtype)
    return lambda x: x


def weighted(layer: nn.Module, kind: str, train: bool) -> Callable[[jax.Array], jax.Array]:
    """`layer` itself, or wrapped in spectral normalization when kind says so."""
    if kind == "spectral_norm":
        wrapped = nn.SpectralNorm(layer, dtype=layer.dtype)
        return lambda x: wrapped(x, update_stats=train)
    return layer
