"""The "standard CNN" of the spectral-normalization paper (Miyato et al. 2018,
arXiv:1802.05957, Table 3): the networks its CIFAR-10 and STL-10 results with that
name were trained with, and compare_gan's `sndcgan`.

Read from the authors' code, github.com/pfnet-research/chainer-gan-lib (`common/net.py`:
DCGANGenerator, SNDCGANDiscriminator), and from github.com/google/compare_gan
(`compare_gan/architectures/sndcgan.py`), which follows it:
  - G: z (N(0, I), 128 numbers in the paper) -> Dense to s8*s8*512 (s8 = the image side
    halved three times, rounding up: 4 at 28 and 32 px) -> BatchNorm of that flat
    vector (per unit, before the reshape, as both references) -> ReLU -> three 4x4
    stride-2 transposed convolutions to 256, 128, 64 channels, each with BatchNorm and
    ReLU -> a 3x3 stride-1 transposed convolution to the image's channels -> tanh.
  - D: 3x3 stride-1 convolution to 64 channels, then 4x4 stride 2 to 128, 3x3 to 128,
    4x4 stride 2 to 256, 3x3 to 256, 4x4 stride 2 to 512, 3x3 to 512, each followed by
    LeakyReLU 0.1 -> flatten -> Dense 1: the logit. Spectral normalization on every
    weight (config.d_norm = 'spectral_norm'; 'none' drops it). No BatchNorm in D.
  - Every layer has a bias (starting at 0; spectral normalization divides the weight
    only); weights N(0, 0.02), Chainer's initialW of these networks.
  - Sizes are TensorFlow's 'SAME' arithmetic, as compare_gan's: each stride-2 layer
    halves the side rounding up (28 -> 14 -> 7 -> 4), so any image side works; at 32
    and 64 px the padding is one pixel each side (Chainer's pad=1).
Where the sources differ, this follows the code, and says so:
  - D's channels: the paper's Table 3 lists 64, 64, 128, 128, 256, 256, 512; both codes
    use 64, 128, 128, 256, 256, 512, 512 (the stride-2 layer doubles the channels).
  - LeakyReLU slope: 0.1 (the paper's table and compare_gan); chainer-gan-lib calls
    F.leaky_relu with Chainer's default slope, 0.2.
  - BatchNorm: jaxgan's (momentum 0.9, epsilon 1e-5), where Chainer's is 0.9 and 2e-5.
  - The transposed convolutions apply their kernel unflipped (Flax's), TensorFlow's
    flipped: with i.i.d. initial weights the distribution of networks is the same.
Widths: config.g_width and d_width are the 64 of G's last and D's first hidden layer;
every other layer scales with them (the references' ch = 8 * 64 = 512).
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgan.nn import layers, normalization
from jaxgan.runtime.errors import UserError

CONDITIONAL_FORMS = ()
D_NORMS = ("spectral_norm", "none")
LEAK = 0.1
weight_init = nn.initializers.normal(0.02)


def halved(side: int) -> int:
    """A 'SAME' stride-2 layer's output side: the input's halved, rounding up."""
    return math.ceil(side / 2)


def sides(image_size: int) -> list[int]:
    """The sides of the feature maps from the image down: [s, s/2, s/4, s/8], rounded up."""
    out = [image_size]
    for _ in range(3):
        out.append(halved(out[-1]))
    return out


def same_padding(size: int, kernel: int = 4) -> tuple[int, int]:
    """TensorFlow's 'SAME' padding (low, high) of a stride-2 convolution of side `size`."""
    total = max((halved(size) - 1) * 2 + kernel - size, 0)
    return total // 2, total - total // 2


def check_config(config: ml_collections.ConfigDict) -> None:
    if config.image_size < 8:
        raise UserError(f"the sndcgan model needs config.image_size >= 8, got {config.image_size}")
    if config.d_norm not in D_NORMS:
        raise UserError(
            f"the sndcgan model's D takes config.d_norm in {D_NORMS}, got {config.d_norm!r}"
        )
    if config.conditional or config.minibatch_features != "none":
        raise UserError(
            "the sndcgan model is the paper's unconditional networks: set "
            "config.conditional=False and minibatch_features='none'"
        )


class Generator(nn.Module):
    """`spectral_norm` (config.g_spectral_norm) wraps every weight; the paper's G has none."""

    image_size: int = 32
    num_channels: int = 3
    width: int = 64
    spectral_norm: bool = False
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(
        self, z: jax.Array, labels: jax.Array | None = None, train: bool = True
    ) -> jax.Array:
        if labels is not None:
            raise ValueError("the sndcgan generator is unconditional")
        norm = "spectral_norm" if self.spectral_norm else "none"
        path = sides(self.image_size)[::-1]  # [s8, s4, s2, s]
        channels = 8 * self.width
        dense = nn.Dense(path[0] * path[0] * channels, kernel_init=weight_init, dtype=self.dtype)
        x = normalization.weighted(dense, norm, train)(z)
        x = nn.relu(normalization.batch_norm(train, self.dtype)(x))
        x = x.reshape(z.shape[0], path[0], path[0], channels)
        for large in path[1:]:
            channels //= 2
            low, high = same_padding(large)
            # The transposed convolution of one whose 'SAME' padding is (low, high).
            up = layers.UpsampleConvTranspose(
                channels,
                padding=((3 - low, 3 - high),) * 2,
                kernel_init=weight_init,
                dtype=self.dtype,
            )
            x = layers.Bias()(normalization.weighted(up, norm, train)(x))
            x = nn.relu(normalization.batch_norm(train, self.dtype)(x))
        last = nn.ConvTranspose(
            self.num_channels,
            (3, 3),
            padding=((1, 1), (1, 1)),
            kernel_init=weight_init,
            dtype=self.dtype,
        )
        x = normalization.weighted(last, norm, train)(x)
        return jnp.tanh(x).astype(jnp.float32)


class Discriminator(nn.Module):
    image_size: int = 32
    num_channels: int = 3
    width: int = 64
    norm: str = "spectral_norm"
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(
        self, x: jax.Array, labels: jax.Array | None = None, train: bool = True
    ) -> jax.Array:
        if labels is not None:
            raise ValueError("the sndcgan discriminator is unconditional")

        def layer(module, x):
            return nn.leaky_relu(normalization.weighted(module, self.norm, train)(x), LEAK)

        def conv3x3(channels):
            return nn.Conv(
                channels,
                (3, 3),
                padding=((1, 1), (1, 1)),
                kernel_init=weight_init,
                dtype=self.dtype,
            )

        x = layer(conv3x3(self.width), x)
        for channels in (2 * self.width, 4 * self.width, 8 * self.width):
            low, high = same_padding(x.shape[-2])
            down = layers.DownsampleConv(
                channels, padding=((low, high),) * 2, kernel_init=weight_init, dtype=self.dtype
            )
            x = nn.leaky_relu(
                layers.Bias()(normalization.weighted(down, self.norm, train)(x)), LEAK
            )
            x = layer(conv3x3(channels), x)
        x = x.reshape(x.shape[0], -1)
        logits = normalization.weighted(
            nn.Dense(1, kernel_init=weight_init, dtype=self.dtype), self.norm, train
        )(x)
        return logits.reshape(x.shape[0]).astype(jnp.float32)


def build(config: ml_collections.ConfigDict) -> tuple[Generator, Discriminator]:
    common = dict(
        image_size=config.image_size,
        num_channels=config.num_channels,
        dtype=jnp.dtype(config.compute_dtype),
    )
    generator = Generator(width=config.g_width, spectral_norm=config.g_spectral_norm, **common)
    return generator, Discriminator(width=config.d_width, norm=config.d_norm, **common)
