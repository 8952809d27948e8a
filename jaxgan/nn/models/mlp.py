"""The fully-connected GAN of Goodfellow et al. 2014 (arXiv:1406.2661).

G: z -> two ReLU hidden layers of `g_width` -> tanh image. D: flattened image -> two
maxout layers of `d_width` units (5 pieces each, the paper's MNIST discriminator) ->
one logit. The number of hidden layers (config.mlp_g_depth, mlp_d_depth), maxout's
pieces (mlp_maxout_pieces), BatchNorm in G (mlp_g_batch_norm) and a N(0, std) weight
initialisation (mlp_init_std) are options, so that other papers' MLPs (PacGAN's 2D
networks, configs/mode_collapse.py) are expressible; their defaults are the networks
above with Flax's default initialisation. The paper's dropout in D is left out: it would
make D stochastic and its gradient penalty ill-defined. D's normalization and mini-batch
features follow the config (`d_norm`, `minibatch_features`); the paper's D has neither.

Vector data (config.data_dim = D > 0, the 2D mode-collapse benchmarks): G's output
layer is linear with D units (no tanh: the 25-Gaussian grid spans [-4, 4]), and D takes
the vectors as they are. With config.mlp_d_maxout False, D's hidden layers are ReLU
layers of `d_width` units. `mlp_activation` picks the hidden layers' nonlinearity (ReLU,
or tanh as the unrolled GAN's public notebook), and `mlp_orthogonal_gain` > 0 draws every
kernel from an orthogonal initialiser of that gain (the notebook's 1.4), biases 0.

Conditional form: `concat` only (projection would need conditional BatchNorm in G): a
label embedding is appended to z and to D's flattened image, as in Mirza & Osindero 2014.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgan.nn import conditioning, minibatch, normalization

CONDITIONAL_FORMS = ("concat",)


ACTIVATIONS = {"relu": nn.relu, "tanh": jnp.tanh}


def kernel_init(init_std: float, orthogonal_gain: float):
    """init_std > 0: N(0, init_std); orthogonal_gain > 0: an orthogonal matrix times the
    gain (TensorFlow's orthogonal_initializer, as the unrolled GAN's notebook); neither:
    Flax's default (LeCun normal), which existing checkpoints and seeds were made with."""
    if init_std > 0:
        return nn.initializers.normal(init_std)
    if orthogonal_gain > 0:
        return nn.initializers.orthogonal(orthogonal_gain)
    return nn.Dense.kernel_init


def dense(
    units: int,
    init_std: float,
    dtype: jnp.dtype,
    use_bias: bool = True,
    orthogonal_gain: float = 0.0,
) -> nn.Dense:
    """A Dense layer with kernel_init(init_std, orthogonal_gain); biases start at 0."""
    init = kernel_init(init_std, orthogonal_gain)
    return nn.Dense(units, use_bias=use_bias, kernel_init=init, dtype=dtype)


def g_batch_norm(train: bool, dtype: jnp.dtype) -> nn.BatchNorm:
    """G's hidden BatchNorm, with the settings of Theano Blocks' BatchNormalization as
    PacGAN's code trains it: running statistics updated with weight 0.05 (Flax's momentum
    counts the old value's weight, 0.95) and epsilon 1e-4; scale 1 and shift 0 at start."""
    return nn.BatchNorm(use_running_average=not train, momentum=0.95, epsilon=1e-4, dtype=dtype)


class Generator(nn.Module):
    image_size: int = 28
    num_channels: int = 1
    data_dim: int = 0  # > 0: G makes vectors of this size with a linear output
    width: int = 1200
    depth: int = 2  # hidden layers
    # BatchNorm then ReLU in each hidden layer, whose Dense then has no bias (BatchNorm's
    # shift takes its place).
    batch_norm: bool = False
    init_std: float = 0.0  # > 0: every kernel ~ N(0, init_std); 0: Flax's default
    orthogonal_gain: float = 0.0  # > 0: every kernel orthogonal times this gain
    activation: str = "relu"  # of the hidden layers: a key of ACTIVATIONS
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
        init = dict(init_std=self.init_std, dtype=self.dtype, orthogonal_gain=self.orthogonal_gain)
        for _ in range(self.depth):
            layer = dense(self.width, use_bias=not self.batch_norm, **init)
            x = normalization.weighted(layer, norm, train)(x)
            if self.batch_norm:
                x = g_batch_norm(train, self.dtype)(x)
            x = ACTIVATIONS[self.activation](x)
        last = dense(outputs, **init)
        x = normalization.weighted(last, norm, train)(x)
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
    init_std: float = 0.0  # > 0: kernel ~ N(0, init_std); 0: Flax's default
    orthogonal_gain: float = 0.0  # > 0: kernel orthogonal times this gain
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        units = self.units * self.pieces
        affine = dense(units, self.init_std, self.dtype, orthogonal_gain=self.orthogonal_gain)
        y = normalization.weighted(affine, self.norm, self.train)(x)
        return y.reshape(*x.shape[:-1], self.units, self.pieces).max(axis=-1)


class Discriminator(nn.Module):
    """`norm` (config.d_norm) follows each maxout layer, or wraps every weight for
    spectral normalization; `minibatch_features` appends cross-sample features before the last
    layer."""

    width: int = 240
    depth: int = 2  # hidden layers
    maxout: bool = True  # False: dense hidden layers with `activation`
    maxout_pieces: int = 5
    init_std: float = 0.0  # > 0: every kernel ~ N(0, init_std); 0: Flax's default
    orthogonal_gain: float = 0.0  # > 0: every kernel orthogonal times this gain
    activation: str = "relu"  # of non-maxout hidden layers: a key of ACTIVATIONS
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
        init = dict(init_std=self.init_std, dtype=self.dtype, orthogonal_gain=self.orthogonal_gain)
        for _ in range(self.depth):
            if self.maxout:
                x = Maxout(
                    self.width,
                    self.maxout_pieces,
                    norm=self.norm,
                    train=train,
                    **init,
                )(x)
            else:
                layer = dense(self.width, **init)
                x = ACTIVATIONS[self.activation](normalization.weighted(layer, self.norm, train)(x))
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
        last = normalization.weighted(dense(1, **init), self.norm, train)
        return last(x).reshape(x.shape[0]).astype(jnp.float32)


def build(config: ml_collections.ConfigDict) -> tuple[Generator, Discriminator]:
    common = dict(dtype=jnp.dtype(config.compute_dtype), **conditioning.model_options(config))
    generator = Generator(
        image_size=config.image_size,
        num_channels=config.num_channels,
        data_dim=config.data_dim,
        width=config.g_width,
        depth=config.mlp_g_depth,
        batch_norm=config.mlp_g_batch_norm,
        init_std=config.mlp_init_std,
        orthogonal_gain=config.mlp_orthogonal_gain,
        activation=config.mlp_activation,
        spectral_norm=config.g_spectral_norm,
        **common,
    )
    discriminator = Discriminator(
        width=config.d_width,
        depth=config.mlp_d_depth,
        maxout=config.mlp_d_maxout,
        maxout_pieces=config.mlp_maxout_pieces,
        init_std=config.mlp_init_std,
        orthogonal_gain=config.mlp_orthogonal_gain,
        activation=config.mlp_activation,
        norm=config.d_norm,
        minibatch_features=minibatch.Options.from_config(config),
        **common,
    )
    return generator, discriminator
