"""SRGAN's networks (Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution
Using a Generative Adversarial Network", figure 4), in Flax.

SRResNet (`SRResNet`): 9x9 conv to 64 + PReLU; 16 residual blocks (3x3 conv, BatchNorm,
PReLU, 3x3 conv, BatchNorm, plus the input); 3x3 conv + BatchNorm plus the output of the
first layer (the long skip); log2(scale) sub-pixel upsamplings (3x3 conv to 256, pixel
shuffle x2, PReLU); 9x9 conv to the image's channels. PReLU as PyTorch's nn.PReLU(): one
learned slope, 0.25 at first. The upsampling convolutions start ICNR-initialised (Aitken
et al. 2017): the r^2 sub-pixel channels of each output channel share one kernel, so the
untrained network upsamples like nearest neighbour, free of checkerboards.

Discriminator (`SRDiscriminator`): 3x3 conv to 64 + LeakyReLU 0.2; seven 3x3 conv +
BatchNorm + LeakyReLU layers of 64 (stride 2), 128, 128 (2), 256, 256 (2), 512, 512 (2);
dense 1024 + LeakyReLU 0.2; dense 1 (a logit).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.families import _translation_nets


def pixel_shuffle(x: jax.Array, scale: int) -> jax.Array:
    """PyTorch's PixelShuffle in NHWC: (N, H, W, C r^2) -> (N, H r, W r, C), output
    channel c at sub-pixel (i, j) taken from input channel c r^2 + i r + j."""
    n, h, w, channels = x.shape
    c = channels // (scale * scale)
    x = x.reshape(n, h, w, c, scale, scale)
    return x.transpose(0, 1, 4, 2, 5, 3).reshape(n, h * scale, w * scale, c)


DEFAULT_KERNEL_INIT = nn.initializers.lecun_normal()  # nn.Conv's


def icnr(scale: int, base=DEFAULT_KERNEL_INIT):
    """An initialiser for a convolution followed by pixel_shuffle(scale): a kernel of
    C output channels drawn by `base`, each repeated for its r^2 sub-pixel channels."""

    def init(key, shape, dtype=jnp.float32):
        *window, inputs, outputs = shape
        kernel = base(key, (*window, inputs, outputs // (scale * scale)), dtype)
        return jnp.repeat(kernel, scale * scale, axis=-1)

    return init


def conv(features: int, size: int, stride: int = 1, kernel_init=None, name=None):
    """A biased size x size convolution padded by size // 2 (PyTorch's padding=k//2),
    through jaxgan's conv layers (oneDNN on the CPU); nn.Conv's initialiser by default."""
    pad = size // 2
    return _translation_nets.BiasedConv(
        features,
        size,
        stride,
        ((pad, pad), (pad, pad)),
        kernel_init=kernel_init or DEFAULT_KERNEL_INIT,
        name=name,
    )


class PReLU(nn.Module):
    """PyTorch's nn.PReLU(): max(0, x) + a min(0, x), one learned a from 0.25."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        slope = self.param("slope", nn.initializers.constant(0.25), ())
        return jnp.where(x >= 0, x, slope * x)


class SRResNet(nn.Module):
    """Low-resolution images (N, h, w, C) in [-1, 1] to (N, h s, w s, C) in [-1, 1]."""

    num_channels: int = 3
    scale: int = 4
    width: int = 64
    blocks: int = 16

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        if self.scale not in (2, 4, 8):
            raise ValueError(f"SRResNet upsamples by 2, 4 or 8, got {self.scale}")
        norm = lambda h: _translation_nets.batch_norm(h, train)  # noqa: E731
        first = PReLU()(conv(self.width, 9)(x))
        h = first
        for _ in range(self.blocks):
            branch = PReLU()(norm(conv(self.width, 3)(h)))
            h = h + norm(conv(self.width, 3)(branch))
        h = first + norm(conv(self.width, 3)(h))
        for _ in range({2: 1, 4: 2, 8: 3}[self.scale]):
            h = conv(4 * self.width, 3, kernel_init=icnr(2))(h)
            h = PReLU()(pixel_shuffle(h, 2))
        return jnp.tanh(conv(self.num_channels, 9, name="to_image")(h))


class SRDiscriminator(nn.Module):
    """High-resolution images (N, H, W, C) to one logit each."""

    width: int = 64

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        h = nn.leaky_relu(conv(self.width, 3)(x), 0.2)
        plan = [(1, 2), (2, 1), (2, 2), (4, 1), (4, 2), (8, 1), (8, 2)]
        for multiple, stride in plan:
            h = conv(multiple * self.width, 3, stride)(h)
            h = nn.leaky_relu(_translation_nets.batch_norm(h, train), 0.2)
        h = nn.leaky_relu(nn.Dense(16 * self.width)(h.reshape(h.shape[0], -1)), 0.2)
        return nn.Dense(1)(h)
