"""Normalization of a network's layers, chosen by name (`config.d_norm`).

  none           plain layers
  batch_norm     BatchNorm after each hidden layer (Ioffe & Szegedy 2015)
  layer_norm     LayerNorm after each hidden layer (Ba et al. 2016)
  spectral_norm  every weight divided by its largest singular value, estimated by one
                 step of power iteration per training call (Miyato et al. 2018)

Spectral normalization uses flax.linen's `SpectralNorm` wrapper: it keeps the raw
weight as the parameter and its power-iteration state (`u`, `sigma`) in the
`batch_stats` collection, which the train step threads like BatchNorm's statistics:
updated in training, frozen in evaluation. One change to it (`SpectralNorm` below): the
parameter starts as the layer initialiser's own draw, as in the reference codes
(PyTorch's `spectral_norm` keeps `weight_orig`; Chainer's SNGAN and BigGAN-PyTorch
likewise); Flax stores the draw divided by a first estimate of its largest singular
value, which leaves the function at the start unchanged but rescales each layer's
weight, and so Adam's step relative to it, by a factor that differs from layer to layer.

Epsilon: PyTorch's `F.normalize` (the references) clamps a vector's norm below at eps
(1e-12, or BigGAN's 1e-8 / 1e-6), Flax adds eps (1e-12) to the squared norm. The two
differ only for vectors of norm below ~1e-6; the power iteration normalises W u and
W^T v, whose norms are about the layer's largest singular value, so jaxgan keeps Flax's.
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


class SpectralNorm(nn.SpectralNorm):
    """flax.linen.SpectralNorm whose parameter starts as the raw initial weight.

    At initialisation Flax runs the layer on the normalised weight and stores that
    (weight / sigma_0); here the initialisation creates the power-iteration state
    (`u` drawn N(0, 1), `sigma` 1: PyTorch's `spectral_norm` also does no iteration
    before the first training call) and hands the layer its raw weight, which is what
    gets stored. Training and evaluation calls are Flax's."""

    def _spectral_normalize(self, path, vs, update_stats):
        if self.is_initializing():
            super()._spectral_normalize(path, vs, update_stats=False)  # creates u, sigma
            return jnp.asarray(vs)
        return super()._spectral_normalize(path, vs, update_stats)


def weighted(layer: nn.Module, kind: str, train: bool) -> Callable[[jax.Array], jax.Array]:
    """`layer` itself, or wrapped in spectral normalization when kind says so."""
    if kind == "spectral_norm":
        wrapped = SpectralNorm(layer, dtype=layer.dtype)
        return lambda x: wrapped(x, update_stats=train)
    return layer
