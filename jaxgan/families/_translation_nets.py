"""The image-to-image networks of junyanz/pytorch-CycleGAN-and-pix2pix (`models/
networks.py`), in Flax: the ResNet generator CycleGAN translates with and the PatchGAN
discriminator both CycleGAN and pix2pix judge with.

ResNet generator (`ResnetGenerator`): reflection pad 3, 7x7 conv to `width` channels,
two 3x3 stride-2 convolutions (x2 channels each), `blocks` residual blocks (reflection
pad 1, 3x3 conv, norm, ReLU, reflection pad 1, 3x3 conv, norm; plus the input), two 3x3
stride-2 transposed convolutions (output padding 1: exactly twice the size), reflection
pad 3, 7x7 conv to the image's channels, tanh. Every convolution has a bias (the
reference's rule under instance norm) and is followed by instance norm (no scale or
shift, epsilon 1e-5: PyTorch's InstanceNorm2d defaults) and ReLU, except the last.

PatchGAN (`NLayerDiscriminator`, n_layers 3): 4x4 convolutions with padding 1, stride 2
to `width`, 2 `width`, 4 `width` channels, then stride 1 to 8 `width` and to one logit
per patch; instance norm after all but the first and the last; LeakyReLU 0.2. Each
logit sees a 70x70 patch of the input (tests/test_cyclegan.py).

Weights N(0, 0.02) and biases 0 (the reference's init_type 'normal', gain 0.02). The
transposed convolutions are Flax's (the kernel is not flipped as PyTorch's gradient-of-
convolution form is: a relabelling of the learned kernel, the same function class).
"""

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.nn import layers

weight_init = nn.initializers.normal(0.02)


def reflect(x: jax.Array, pad: int) -> jax.Array:
    return jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")


def instance_norm(x: jax.Array) -> jax.Array:
    return nn.InstanceNorm(use_scale=False, use_bias=False, epsilon=1e-5)(x)


class BiasedConv(nn.Module):
    """A convolution, with a bias unless `bias` is False (the reference's rule: none
    before a BatchNorm), through jaxgan's layers.DownsampleConv: its oneDNN lowering on
    the CPU computes the gradients several times faster than XLA's (BENCHMARKS.md)."""

    features: int
    size: int
    stride: int = 1
    padding: tuple = ((0, 0), (0, 0))
    transpose: bool = False  # PyTorch's ConvTranspose2d, through UpsampleConvTranspose
    bias: bool = True
    kernel_init: Callable = weight_init

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        layer = layers.UpsampleConvTranspose if self.transpose else layers.DownsampleConv
        kernel = layer(
            self.features,
            (self.size, self.size),
            (self.stride, self.stride),
            self.padding,
            kernel_init=self.kernel_init,
            name="conv",
        )
        if not self.bias:
            return kernel(x)
        return kernel(x) + self.param("bias", nn.initializers.zeros, (self.features,))


def conv(features: int, size: int, stride: int = 1, padding=((0, 0), (0, 0)), name=None):
    return BiasedConv(features, size, stride, padding, name=name)


def batch_norm(x: jax.Array, train: bool) -> jax.Array:
    """PyTorch's BatchNorm2d (momentum 0.1, epsilon 1e-5) with the reference's
    initialisation: scale N(1, 0.02), shift 0."""
    return nn.BatchNorm(
        use_running_average=not train,
        momentum=0.9,
        epsilon=1e-5,
        scale_init=lambda key, shape, dtype=jnp.float32: (
            1 + 0.02 * jax.random.normal(key, shape, dtype)
        ),
    )(x)


class ResidualBlock(nn.Module):
    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        channels = x.shape[-1]
        h = nn.relu(instance_norm(conv(channels, 3)(reflect(x, 1))))
        h = instance_norm(conv(channels, 3)(reflect(h, 1)))
        return x + h


class ResnetGenerator(nn.Module):
    """Images in [-1, 1] to images in [-1, 1] of the same size (a multiple of 4)."""

    num_channels: int = 3
    width: int = 64  # ngf
    blocks: int = 9

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        if x.shape[1] % 4 or x.shape[2] % 4:
            raise ValueError(f"the ResNet generator needs sides that are multiples of 4: {x.shape}")
        h = nn.relu(instance_norm(conv(self.width, 7)(reflect(x, 3))))
        for multiple in (2, 4):
            h = nn.relu(instance_norm(conv(multiple * self.width, 3, 2, ((1, 1), (1, 1)))(h)))
        for _ in range(self.blocks):
            h = ResidualBlock()(h)
        for multiple in (2, 1):
            # PyTorch's ConvTranspose2d(k=3, s=2, p=1, output_padding=1): the dilated
            # input padded (k - 1 - p, k - 1 - p + output_padding) = (1, 2).
            up = BiasedConv(multiple * self.width, 3, 2, ((1, 2), (1, 2)), transpose=True)
            h = nn.relu(instance_norm(up(h)))
        return jnp.tanh(conv(self.num_channels, 7, name="to_image")(reflect(h, 3)))


class PatchDiscriminator(nn.Module):
    """Images (N, H, W, C) to a map of patch logits (N, H', W', 1)."""

    width: int = 64  # ndf
    layers: int = 3  # n_layers_D
    norm: str = "instance"  # "instance" (CycleGAN), "batch" (pix2pix) or "none"

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        same = ((1, 1), (1, 1))
        norm = {
            "instance": instance_norm,
            "batch": lambda h: batch_norm(h, train),
            "none": lambda h: h,
        }[self.norm]
        h = nn.leaky_relu(conv(self.width, 4, 2, same)(x), 0.2)
        for n in range(1, self.layers + 1):
            stride = 2 if n < self.layers else 1
            features = min(2**n, 8) * self.width
            biased = self.norm != "batch"
            h = BiasedConv(features, 4, stride, same, bias=biased)(h)
            h = nn.leaky_relu(norm(h), 0.2)
        return conv(1, 4, 1, same)(h)


class UnetGenerator(nn.Module):
    """pix2pix's U-Net (`UnetGenerator`, unet_256 for downs 8): `downs` 4x4 stride-2
    convolutions down to 1x1 at 256 px, widths width, 2, 4, 8 width then 8 width, and
    back up through 4x4 stride-2 transposed convolutions, each level's output joined to
    its input (channel concatenation) on the way up; LeakyReLU 0.2 down, ReLU up,
    BatchNorm except on the outermost down, innermost down and outermost up layers,
    dropout 0.5 after the up layers of the `downs` - 5 levels just outside the innermost,
    tanh at the end. Convolutions before a BatchNorm have no bias."""

    num_channels: int = 3
    width: int = 64  # ngf
    downs: int = 8  # num_downs
    dropout: float = 0.5

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        if x.shape[1] % 2**self.downs or x.shape[2] % 2**self.downs:
            raise ValueError(
                f"the U-Net with {self.downs} downsamplings needs sides that are multiples "
                f"of {2**self.downs}: {x.shape}"
            )
        w = self.width
        # (outer, inner) channels of each level, outermost first (the reference builds
        # them inside out).
        levels = [(self.num_channels, w), (w, 2 * w), (2 * w, 4 * w), (4 * w, 8 * w)]
        levels += [(8 * w, 8 * w)] * (self.downs - 4)
        down_pad = ((1, 1), (1, 1))
        up_pad = ((2, 2), (2, 2))  # PyTorch's ConvTranspose2d(k=4, s=2, p=1): 2x the size
        skips, h = [], x
        for level, (_, inner) in enumerate(levels):
            outermost, innermost = level == 0, level == len(levels) - 1
            skips.append(h)
            if not outermost:
                h = nn.leaky_relu(h, 0.2)
            h = BiasedConv(inner, 4, 2, down_pad, bias=False, name=f"down_{level}")(h)
            if not (outermost or innermost):
                h = batch_norm(h, train)
        for level in reversed(range(len(levels))):
            outer, _ = levels[level]
            outermost = level == 0
            h = nn.relu(h)
            up = BiasedConv(outer, 4, 2, up_pad, transpose=True, bias=outermost, name=f"up_{level}")
            h = up(h)
            if outermost:
                return jnp.tanh(h)
            h = batch_norm(h, train)
            if 4 <= level < len(levels) - 1:  # the 8-width levels outside the innermost
                h = nn.Dropout(self.dropout, deterministic=not train)(h)
            h = jnp.concatenate([skips[level], h], axis=-1)
