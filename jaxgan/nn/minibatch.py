"""Discriminator layers that compare the samples of a batch, against mode collapse.

Both see the whole batch they are given. Under the data-parallel step the batch is the
global batch (jit over a sharded batch computes the same function as on one device),
so samples are compared across devices, exactly as on a single device.
"""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgan.runtime.errors import UserError

KINDS = ("none", "minibatch_discrimination", "minibatch_stddev")


@dataclasses.dataclass(frozen=True)
class Options:
    """config.minibatch_features and its sizes."""

    kind: str = "none"
    kernels: int = 100
    kernel_dim: int = 5
    group_size: int = 4

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict) -> "Options":
        if config.minibatch_features not in KINDS:
            raise UserError(
                f"config.minibatch_features must be one of {list(KINDS)}, "
                f"got {config.minibatch_features!r}"
            )
        return cls(
            kind=config.minibatch_features,
            kernels=config.minibatch_kernels,
            kernel_dim=config.minibatch_kernel_dim,
            group_size=config.minibatch_group_size,
        )


class MinibatchDiscrimination(nn.Module):
    """Mini-batch discrimination (Salimans et al. 2016, sec. 3.2).

    Features f (N, A) are projected by a tensor T of shape A x B x C to M (N, B, C);
    for each of the B kernels, o(x_i)_b = sum_j exp(-||M_i,b - M_j,b||_1) over every
    sample j of the batch (the paper's sum includes j = i), and [f, o] is returned.
    """

    kernels: int = 100  # B
    kernel_dim: int = 5  # C
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, features: jax.Array) -> jax.Array:
        t = self.param(
            "T", nn.initializers.normal(0.02), (features.shape[-1], self.kernels * self.kernel_dim)
        )
        m = (features @ t.astype(self.dtype)).reshape(-1, self.kernels, self.kernel_dim)
        l1 = jnp.sum(jnp.abs(m[:, None] - m[None, :]), axis=-1)  # (N, N, B)
        o = jnp.sum(jnp.exp(-l1.astype(jnp.float32)), axis=1)
        return jnp.concatenate([features, o.astype(features.dtype)], axis=-1)


def minibatch_stddev(x: jax.Array, group_size: int) -> jax.Array:
    """The minibatch standard-deviation layer (Karras et al. 2018, sec. 3; the official
    code's minibatch_stddev_layer).

    Samples are split into groups of min(group_size, N) (sample i belongs to group
    i mod N/group_size); the standard deviation of each feature over its group
    (biased, sqrt(var + 1e-8)), averaged over features and positions, is appended as one
    constant channel.
    """
    n, h, w, c = x.shape
    group = min(group_size, n)
    if n % group:
        raise ValueError(f"batch {n} does not divide into groups of {group}")
    y = x.astype(jnp.float32).reshape(group, n // group, h, w, c)
    std = jnp.sqrt(jnp.var(y, axis=0) + 1e-8)  # (N/G, H, W, C)
    per_group = jnp.mean(std, axis=(1, 2, 3))  # (N/G,)
    channel = jnp.tile(per_group, group).reshape(n, 1, 1, 1)
    channel = jnp.broadcast_to(channel, (n, h, w, 1)).astype(x.dtype)
    return jnp.concatenate([x, channel], axis=-1)


class MinibatchStddev(nn.Module):
    """minibatch_stddev as a layer."""

    group_size: int = 4

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return minibatch_stddev(x, self.group_size)
