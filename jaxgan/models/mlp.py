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

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        del train  # no batch statistics: the same function in training and sampling
        x = nn.relu(nn.Dense(self.width)(z))
        x = nn.relu(nn.Dense(self.width)(x))
        x = nn.Dense(self.image_size * self.image_size * self.num_channels)(x)
        return jnp.tanh(x).reshape(z.shape[0], self.image_size, self.image_size, self.num_channels)


class Maxout(nn.Module):
    """Maxout units (Goodfellow et al. 2013): the max over `pieces` affine maps."""

    units: int
    pieces: int = 5

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        y = nn.Dense(self.units * self.pieces)(x)
        return y.reshape(*x.shape[:-1], self.units, self.pieces).max(axis=-1)


class Discriminator(nn.Module):
    width: int = 240

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        del train
        x = x.reshape(x.shape[0], -1)
        x = Maxout(self.width)(x)
        x = Maxout(self.width)(x)
        return nn.Dense(1)(x).reshape(x.shape[0])


def build(config: ml_collections.ConfigDict) -> tuple[Generator, Discriminator]:
    generator = Generator(
        image_size=config.image_size, num_channels=config.num_channels, width=config.g_width
    )
    return generator, Discriminator(width=config.d_width)
