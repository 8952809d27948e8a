"""The fully-connected GAN of Goodfellow et al. 2014 (arXiv:1406.2661).

G: z -> two ReLU hidden layers of `g_width` -> tanh image. D: flattened image -> two
maxout layers of `d_width` units (5 pieces each, the paper's MNIST discriminator) ->
one logit. The paper's dropout in D is left out: it would make D stochastic and its
gradient penalty ill-defined.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections


class Generator(nn.Module):
    image_size: int = 28
    num_channels: int = 1
    width: int = 1200
    dtype: jnp.dtype = jnp.float32  # compute dtype; parameters stay float32

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        del train  # no batch statistics: the same function in training and sampling
        x = nn.relu(nn.Dense(self.width, dtype=self.dtype)(z))
        x = nn.relu(nn.Dense(self.width, dtype=self.dtype)(x))
        x = nn.Dense(self.image_size * self.image_size * self.num_channels, dtype=self.dtype)(x)
        x = jnp.tanh(x).astype(jnp.float32)
        return x.reshape(z.shape[0], self.image_size, self.image_size, self.num_channels)


class Maxout(nn.Module):
    """Maxout units (Goodfellow et al. 2013): the max over `pieces` affine maps."""

    units: int
    pieces: int = 5
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        y = nn.Dense(self.units * self.pieces, dtype=self.dtype)(x)
        return y.reshape(*x.shape[:-1], self.units, self.pieces).max(axis=-1)


class Discriminator(nn.Module):
    width: int = 240
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        del train
        x = x.reshape(x.shape[0], -1)
        x = Maxout(self.width, dtype=self.dtype)(x)
        x = Maxout(self.width, dtype=self.dtype)(x)
        return nn.Dense(1, dtype=self.dtype)(x).reshape(x.shape[0]).astype(jnp.float32)


def build(config: ml_collections.ConfigDict) -> tuple[Generator, Discriminator]:
    dtype = jnp.dtype(config.compute_dtype)
    generator = Generator(
        image_size=config.image_size,
        num_channels=config.num_channels,
        width=config.g_width,
        dtype=dtype,
    )
    return generator, Discriminator(width=config.d_width, dtype=dtype)
