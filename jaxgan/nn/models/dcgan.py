"""DCGAN generator and discriminator (Radford et al. 2015, arXiv:1511.06434).

The strided (transposed) convolutions are jaxgan.nn.layers' exact reformulations of
nn.ConvTranspose / nn.Conv, which are faster on XLA:CPU. The layer plan follows
pytorch/examples' DCGAN: G projects z to a `start`x`start`
map with `width * 2**(n-1)` channels, then n-1 stride-2 transposed 4x4 convolutions
(BatchNorm + ReLU) and a last one to the image (tanh); D mirrors it with stride-2 4x4
convolutions, LeakyReLU(0.2), BatchNorm everywhere but the first layer, and a last
convolution over the whole `start`x`start` map giving one logit. No conv biases.

Conditional forms (jaxgan/nn/conditioning.py): `concat` appends a label embedding to z and
to D's image channels; `projection` makes G's BatchNorms conditional and adds D's
projection term, with phi(x) the flattened input of D's last layer.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgan.nn import conditioning, layers, minibatch, normalization
from jaxgan.runtime.errors import UserError

CONDITIONAL_FORMS = conditioning.FORMS

# N(0, 0.02) for every weight, BatchNorm scale N(1, 0.02) and shift 0, as the paper.
conv_init = nn.initializers.normal(0.02)


def bn_scale_init(key, shape, dtype=jnp.float32):
    return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


def batch_norm(train: bool, dtype: jnp.dtype) -> nn.BatchNorm:
    return normalization.batch_norm(train, dtype, scale_init=bn_scale_init)


def resolution_plan(image_size: int) -> tuple[int, int]:
    """(start side, number of stride-2 stages) for an image side."""
    plans = {28: (7, 2), 32: (4, 3), 64: (4, 4)}
    if image_size not in plans:
        raise UserError(
            f"the DCGAN supports config.image_size in {sorted(plans)}, got {image_size}"
        )
    return plans[image_size]


def check_config(config: ml_collections.ConfigDict) -> None:
    resolution_plan(config.image_size)


class Generator(nn.Module):
    """`spectral_norm` (config.g_spectral_norm) wraps every layer's weight, as SAGAN."""

    image_size: int = 64
    num_channels: int = 3
    width: int = 64
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
        start, stages = resolution_plan(self.image_size)
        norm = "spectral_norm" if self.spectral_norm else "none"
        channels = self.width * 2 ** (stages - 1)
        if conditioning.uses(self, "concat"):
            z = conditioning.concat_embedding(z, labels, self.num_classes, self.label_embedding_dim)

        def normalize(x):
            if conditioning.uses(self, "projection"):
                return conditioning.ConditionalBatchNorm(
                    self.num_classes, train, self.dtype, scale_init=bn_scale_init
                )(x, labels)
            return batch_norm(train, self.dtype)(x)

        # A transposed start x start convolution of a 1x1 input is this dense layer,
        # with the same number of parameters (nz * channels * start**2).
        dense = nn.Dense(
            start * start * channels, use_bias=False, kernel_init=conv_init, dtype=self.dtype
        )
        x = normalization.weighted(dense, norm, train)(z)
        x = x.reshape(z.shape[0], start, start, channels)
        x = nn.relu(normalize(x))
        for stage in range(stages):
            last = stage == stages - 1
            channels = self.num_channels if last else channels // 2
            up = layers.UpsampleConvTranspose(channels, kernel_init=conv_init, dtype=self.dtype)
            x = normalization.weighted(up, norm, train)(x)
            if not last:
                x = nn.relu(normalize(x))
        return jnp.tanh(x).astype(jnp.float32)


class Discriminator(nn.Module):
    """`norm` (config.d_norm) normalises every layer but the first and last, as the
    paper's BatchNorm does; spectral normalization wraps every layer.
    `minibatch_features` appends cross-sample features before the last layer."""

    image_size: int = 64
    num_channels: int = 3
    width: int = 64
    norm: str = "batch_norm"
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
        start, stages = resolution_plan(self.image_size)
        if conditioning.uses(self, "concat"):
            x = conditioning.concat_embedding(x, labels, self.num_classes, self.label_embedding_dim)
        channels = self.width
        for stage in range(stages):
            conv = layers.DownsampleConv(channels, kernel_init=conv_init, dtype=self.dtype)
            x = normalization.weighted(conv, self.norm, train)(x)
            if stage > 0 and self.norm == "batch_norm":
                x = batch_norm(train, self.dtype)(x)
            elif stage > 0:
                x = normalization.hidden_norm(self.norm, train, self.dtype)(x)
            x = nn.leaky_relu(x, 0.2)
            channels *= 2
        options = self.minibatch_features
        if options.kind == "minibatch_stddev":
            x = minibatch.MinibatchStddev(options.group_size)(x)
        if options.kind == "minibatch_discrimination":
            # The cross-sample features join the flattened penultimate activations,
            # and a dense layer takes the place of the last convolution.
            x = minibatch.MinibatchDiscrimination(
                options.kernels, options.kernel_dim, dtype=self.dtype
            )(x.reshape(x.shape[0], -1))
            last = nn.Dense(1, use_bias=False, kernel_init=conv_init, dtype=self.dtype)
        else:
            last = nn.Conv(
                1,
                (start, start),
                padding="VALID",
                use_bias=False,
                kernel_init=conv_init,
                dtype=self.dtype,
            )
        logits = normalization.weighted(last, self.norm, train)(x).reshape(x.shape[0])
        # Logits in float32: losses and their gradients are computed at full precision.
        logits = logits.astype(jnp.float32)
        if conditioning.uses(self, "projection"):
            phi = x.reshape(x.shape[0], -1)
            self.sow("intermediates", "phi", phi)  # for inspection (capture with mutable)
            projection = conditioning.Projection(self.num_classes, self.norm, train, self.dtype)
            logits = logits + projection(phi, labels)
        return logits


def build(config: ml_collections.ConfigDict) -> tuple[Generator, Discriminator]:
    common = dict(
        image_size=config.image_size,
        num_channels=config.num_channels,
        dtype=jnp.dtype(config.compute_dtype),
        **conditioning.model_options(config),
    )
    discriminator = Discriminator(
        width=config.d_width,
        norm=config.d_norm,
        minibatch_features=minibatch.Options.from_config(config),
        **common,
    )
    generator = Generator(width=config.g_width, spectral_norm=config.g_spectral_norm, **common)
    return generator, discriminator
