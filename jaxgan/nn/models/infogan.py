"""The InfoGAN-style networks of Lucic et al. 2018 ("Are GANs Created Equal?"), the one
architecture their study trains every loss with on MNIST and Fashion-MNIST.

Read from the study's code, github.com/google/compare_gan at its first version
(`compare_gan/src/gans/abstract_gan.py` for the layers, `ops.py` for initialisers and
BatchNorm, `gan_lib.py` for the latent and the data's range):
  - G: z (64 numbers, U[-1, 1]) -> Dense 1024, BatchNorm, LeakyReLU 0.2 -> Dense 7*7*128,
    BatchNorm, LeakyReLU -> 7x7x128 -> 4x4 stride-2 transposed convolution ('SAME') to 64
    channels, BatchNorm, LeakyReLU -> 4x4 stride-2 transposed convolution to 1 channel ->
    sigmoid: an image in [0, 1] (LeakyReLU in G, not ReLU; no tanh anywhere).
  - D: the image in [0, 1] -> 4x4 stride-2 convolution ('SAME') to 64, LeakyReLU 0.2 (no
    BatchNorm) -> 4x4 stride-2 convolution to 128, [BatchNorm], LeakyReLU -> flatten ->
    Dense 1024, [BatchNorm], LeakyReLU -> Dense 1: the logit. D's BatchNorm is a setting
    of the study (config.d_norm: `batch_norm` or `none`).
  - Initialisation: dense kernels N(0, 0.02), D's convolution kernels truncated normal
    (std 0.02, cut at 2 std), G's transposed convolution kernels N(0, 0.02); every layer
    has a bias, starting at 0.
  - BatchNorm: decay 0.999 (Flax's momentum), epsilon 1e-3, scale and shift learned.
How it sits in jaxgan, whose images are in [-1, 1] and whose latents are N(0, I):
  - G maps its N(0, 1) latent z to u = erf(z / sqrt(2)), which is exactly U[-1, 1]
    distributed (the normal CDF turns a normal draw into a uniform one), and returns
    2 sigmoid(.) - 1; D maps its input back to [0, 1] first, and the gradient penalties
    are taken in [0, 1] (IMAGE_RANGE). The networks are then the study's functions of
    the study's inputs: only the random numbers differ.
  - TensorFlow's 'SAME' padding for these 4x4 stride-2 layers at 28 and 14 px is one
    pixel on each side: jaxgan's DCGAN layers (PyTorch's k=4, s=2, p=1). A TensorFlow
    transposed convolution applies its kernel flipped; with i.i.d. initial weights the
    distribution of networks is the same.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgan.nn import layers
from jaxgan.runtime.errors import UserError

CONDITIONAL_FORMS = ()
# The study's images are in [0, 1]: gradient penalties are taken with respect to those
# (jaxgan/families/gan.py), whose gradients are twice those in jaxgan's [-1, 1].
IMAGE_RANGE = (0.0, 1.0)

dense_init = nn.initializers.normal(0.02)
conv_init = nn.initializers.truncated_normal(0.02)  # TF's: re-drawn beyond 2 std
deconv_init = nn.initializers.normal(0.02)
D_NORMS = ("batch_norm", "none")


def batch_norm(train: bool, dtype: jnp.dtype) -> nn.BatchNorm:
    """compare_gan's ops.batch_norm: decay 0.999, epsilon 1e-3."""
    return nn.BatchNorm(use_running_average=not train, momentum=0.999, epsilon=1e-3, dtype=dtype)


def check_config(config: ml_collections.ConfigDict) -> None:
    if (config.image_size, config.num_channels) != (28, 1):
        raise UserError(
            "the infogan model makes 28x28 grayscale images (MNIST, Fashion-MNIST): set "
            f"config.image_size=28 and num_channels=1, got {config.image_size} and "
            f"{config.num_channels}"
        )
    if config.d_norm not in D_NORMS:
        raise UserError(
            f"the infogan model's D takes config.d_norm in {D_NORMS}, got {config.d_norm!r}"
        )
    if config.conditional or config.minibatch_features != "none" or config.g_spectral_norm:
        raise UserError(
            "the infogan model is the study's unconditional networks: set "
            "config.conditional=False, minibatch_features='none', g_spectral_norm=False"
        )


class Generator(nn.Module):
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(
        self, z: jax.Array, labels: jax.Array | None = None, train: bool = True
    ) -> jax.Array:
        if labels is not None:
            raise ValueError("the infogan generator is unconditional")
        x = jax.scipy.special.erf(z / math.sqrt(2.0))  # N(0, 1) -> U[-1, 1]
        for units in (1024, 7 * 7 * 128):
            x = nn.Dense(units, kernel_init=dense_init, dtype=self.dtype)(x)
            x = nn.leaky_relu(batch_norm(train, self.dtype)(x), 0.2)
        x = x.reshape(z.shape[0], 7, 7, 128)
        x = layers.UpsampleConvTranspose(64, kernel_init=deconv_init, dtype=self.dtype)(x)
        x = nn.leaky_relu(batch_norm(train, self.dtype)(layers.Bias()(x)), 0.2)
        x = layers.UpsampleConvTranspose(1, kernel_init=deconv_init, dtype=self.dtype)(x)
        image = jax.nn.sigmoid(layers.Bias()(x))  # [0, 1], the study's range
        return (2.0 * image - 1.0).astype(jnp.float32)


class Discriminator(nn.Module):
    norm: str = "batch_norm"
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(
        self, x: jax.Array, labels: jax.Array | None = None, train: bool = True
    ) -> jax.Array:
        if labels is not None:
            raise ValueError("the infogan discriminator is unconditional")
        x = (x + 1.0) / 2.0  # back to the study's [0, 1]

        def normalize(x):
            return batch_norm(train, self.dtype)(x) if self.norm == "batch_norm" else x

        x = layers.DownsampleConv(64, kernel_init=conv_init, dtype=self.dtype)(x)
        x = nn.leaky_relu(layers.Bias()(x), 0.2)
        x = layers.DownsampleConv(128, kernel_init=conv_init, dtype=self.dtype)(x)
        x = nn.leaky_relu(normalize(layers.Bias()(x)), 0.2)
        x = x.reshape(x.shape[0], -1)
        x = nn.Dense(1024, kernel_init=dense_init, dtype=self.dtype)(x)
        x = nn.leaky_relu(normalize(x), 0.2)
        x = nn.Dense(1, kernel_init=dense_init, dtype=self.dtype)(x)
        return x.reshape(x.shape[0]).astype(jnp.float32)


def build(config: ml_collections.ConfigDict) -> tuple[Generator, Discriminator]:
    dtype = jnp.dtype(config.compute_dtype)
    return Generator(dtype=dtype), Discriminator(norm=config.d_norm, dtype=dtype)
