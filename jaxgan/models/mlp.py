"""The fully-connected GAN of Goodfellow et al. 2014 (arXiv:1406.2661).

G: z -> two ReLU hidden layers of `g_width` -> tanh image. D: flattened image -> two
maxout layers of `d_width` units (5 pieces each, the paper's MNIST discriminator) ->
one logit. The paper's dropout in D is left out: it would make D stochastic and its
gradient penalty ill-defined. D's normalization and mini-batch features follow the
config (`d_norm`, `minibatch_features`); the paper's D has neither.

Vector data (config.data_dim = D > 0, the 2D mode-collapse benchmarks): G's output
layer is linear with D units (no tanh: the 25-Gaussian grid spans [-4, 4]), and D takes
the vectors as they are. With config.mlp_d_maxout False, D's hidden layers are ReLU
layers of `d_width` units, as in the 2D mixture networks of Metz et al. 2017.

Conditional form: `concat` only (the MLP's G has no BatchNorm to make conditional): a
label embedding is appended to z and to D's flattened image, as in Mirza & Osindero 2014.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgan import conditioning, minibatch, normalization

CONDITIONAL_FORMS = ("concat",)


class Generator(nn.Module):
    image_size: int = 28
    num_channels: int = 1
    data_dim: int = 0  # > 0: G makes vectors of this size with a linear output
    width: int = 1200
    spectral_norm: bool = False
    num_classes: int = 0  # 0: unconditional
    conditional_form: str = "concat"
    label_embedding_dim: int = 32
    dtype: jnp.dtype = jnp.float32  # compute dtype; parameters stay float32

    @nn.compact
    def __call__(
        self, z: jax.Array, labels: jax.Array | None = None, train: bool = True
    ) -> jax.Array:
        conditioning.check_labels(labels, self.num_classes, z.shape[0])
        norm = "spectral_norm" if self.spectral_norm else "none"
        outputs = self.data_dim or self.image_size * self.image_size * self.num_channels
        x = z
        if self.num_classes:
            x = conditioning.concat_embedding(x, labels, self.num_classes, self.label_embedding_dim)
        for units in (self.width, self.width):
            x = normalization.weighted(nn.Dense(units, dtype=self.dtype), norm, train)(x)
            x = nn.relu(x)
        x = normalization.weighted(nn.Dense(outputs, dtype=self.dtype), norm, train)(x)
        if self.data_dim:
            return x.astype(jnp.float32)
        x = jnp.tanh(x).astype(jnp.float32)
        return x.reshape(z.shape[0], self.image_size, self.image_size, self.num_channels)


class Maxout(nn.Module):
    """Maxout units (Goodfellow et al. 2013): the max over `pieces` affine maps."""

    units: int
    pieces: int = 5
    norm: str = "none"  # spectral_norm wraps the affine maps
    train: bool = True
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        dense = nn.Dense(self.units * self.pieces, dtype=self.dtype)
        y = normalization.weighted(dense, self.norm, self.train)(x)
        return y.reshape(*x.shape[:-1], self.units, self.pieces).max(axis=-1)


class Discriminator(nn.Module):
    """`norm` (config.d_norm) follows each maxout layer, or wraps every weight for
    spectral normalization; `minibatch_features` appends cross-sample features before the last
    layer."""

    width: int = 240
    maxout: bool = True  # False: ReLU hidden layers
    norm: str = "none"
    minibatch_features: minibatch.Options = minibatch.Options()
    num_classes: int = 0  # 0: unconditional
    conditional_form: str = "concat"
    label_embedding_dim: int = 32
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(
        self, x: jax.Array, labels: jax.Array | None = None, train: bool = True
    ) -> jax.Array:
        conditioning.check_labels(labels, self.num_classes, x.shape[0])
        x = x.reshape(x.shape[0], -1)
        if self.num_classes:
            x = conditioning.concat_embedding(x, labels, self.num_classes, self.label_embedding_dim)
        for _ in range(2):
            if self.maxout:
                x = Maxout(self.width, norm=self.norm, train=train, dtype=self.dtype)(x)
            else:
                dense = nn.Dense(self.width, dtype=self.dtype)
                x = nn.relu(normalization.weighted(dense, self.norm, train)(x))
            x = normalization.hidden_norm(self.norm, train, self.dtype)(x)
        if self.minibatch_features.kind == "minibatch_discrimination":
            x = minibatch.MinibatchDiscrimination(
                self.minibatch_features.kernels,
                self.minibatch_features.kernel_dim,
                dtype=self.dtype,
            )(x)
        elif self.minibatch_features.kind == "minibatch_stddev":
            x = minibatch.MinibatchStddev(self.minibatch_features.group_size)(x[:, None, None, :])
            x = x.reshape(x.shape[0], -1)
        last = normalization.weighted(nn.Dense(1, dtype=self.dtype), self.norm, train)
        return last(x).reshape(x.shape[0]).astype(jnp.float32)


def build(config: ml_collections.ConfigDict) -> tuple[Generator, Discriminator]:
    common = dict(dtype=jnp.dtype(config.compute_dtype), **conditioning.model_options(config))
    generator = Generator(
        image_size=config.image_size,
        num_channels=config.num_channels,
        data_dim=config.data_dim,
        width=config.g_width,
        spectral_norm=config.g_spectral_norm,
        **common,
    )
    discriminator = Discriminator(
        width=config.d_width,
        maxout=config.mlp_d_maxout,
        norm=config.d_norm,
        minibatch_features=minibatch.Options.from_config(config),
        **common,
    )
    return generator, discriminator
