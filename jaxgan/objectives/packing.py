"""PacGAN's packing (Lin et al. 2018, arXiv:1712.04086): D judges `m` samples at once.

Consecutive samples i*m .. i*m + m - 1 of a batch become one input of D, concatenated
along the last axis (channels of an image, features of a vector). D then sees the joint
distribution of m samples, where a collapsed generator's lack of variety shows. With
m = 1 both functions return their argument itself, so unpacked runs compute exactly
what they did before packing existed.
"""

import jax
import jax.numpy as jnp


def pack(x: jax.Array, m: int) -> jax.Array:
    """(B, ..., C) -> (B / m, ..., m * C); B must divide by m."""
    if m == 1:
        return x
    batch = x.shape[0]
    grouped = jnp.moveaxis(x.reshape(batch // m, m, *x.shape[1:]), 1, -2)
    return grouped.reshape(batch // m, *x.shape[1:-1], m * x.shape[-1])


def unpack(x: jax.Array, m: int) -> jax.Array:
    """The inverse of `pack`: (B / m, ..., m * C) -> (B, ..., C)."""
    if m == 1:
        return x
    split = x.reshape(*x.shape[:-1], m, x.shape[-1] // m)
    samples = jnp.moveaxis(split, -2, 1)
    return samples.reshape(x.shape[0] * m, *x.shape[1:-1], x.shape[-1] // m)
