"""ProGAN's networks (Karras et al. 2018), as the official code's G_paper and D_paper
(github.com/tkarras/progressive_growing_of_gans, networks.py), in NHWC.

Every resolution's layers exist from the start (the state's parameter tree never
changes). Which of them run is the level of detail `lod`, a non-trainable variable of
each net (collection "progress", as the reference's `lod` variable): resolution
2^(R - floor(lod)) with the fraction f = lod - floor(lod) weighting the lower
resolution's path. The forward passes are pure functions of (params, input, level,
fade) for a static level, and the modules pick the level with lax.switch on the traced
lod: a step compiles once, whatever the schedule, and runs only the active level's
layers (inactive ones get zero gradients, as in the reference).

As the reference, both nets work at the full resolution: G's image at a lower level is
nearest-upsampled to it, and D average-pools its input down to the level's resolution,
so the gradient penalty is taken on full-resolution images as there.

Equalized learning rate: every weight is drawn N(0, 1) and multiplied at run time by
gain / sqrt(fan_in) (He's constant); biases start at 0 and are not scaled. Gains: sqrt(2)
everywhere but G's 4x4 dense (sqrt(2)/4, as the reference to match its Theano original),
toRGB (1) and D's last dense (1).
"""

import functools
import math
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.cpu import onednn_conv
from jaxgan.nn import layers
from jaxgan.nn.minibatch import minibatch_stddev

SQRT2 = math.sqrt(2.0)
PIXEL_NORM_EPSILON = 1e-8


class Spec(NamedTuple):
    """The architecture: final resolution 2^resolution_log2, channel widths
    nf(stage) = min(fmap_base / 2^stage, fmap_max) (fmap_decay 1)."""

    resolution_log2: int
    channels: int
    latent_dim: int
    fmap_base: int = 8192
    fmap_max: int = 512
    mbstd_group_size: int = 4

    def nf(self, stage: int) -> int:
        return min(int(self.fmap_base / 2.0**stage), self.fmap_max)


def lod_levels(spec: Spec) -> int:
    """Levels of detail 4x4 .. 2^R: R - 1 of them."""
    return spec.resolution_log2 - 1


def leaky_relu(x: jax.Array) -> jax.Array:
    return jnp.maximum(x, 0.2 * x)


def pixel_norm(x: jax.Array) -> jax.Array:
    """Each pixel's feature vector scaled to unit mean square (over channels)."""
    return x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=-1, keepdims=True) + PIXEL_NORM_EPSILON)


def upsample(x: jax.Array, factor: int) -> jax.Array:
    """Nearest-neighbour upsampling (the reference's upscale2d)."""
    if factor == 1:
        return x
    return jnp.repeat(jnp.repeat(x, factor, axis=1), factor, axis=2)


def downsample(x: jax.Array, factor: int) -> jax.Array:
    """factor x factor average pooling (the reference's downscale2d)."""
    if factor == 1:
        return x
    n, h, w, c = x.shape
    return x.reshape(n, h // factor, factor, w // factor, factor, c).mean(axis=(2, 4))


def lerp(a: jax.Array, b: jax.Array, t: jax.Array) -> jax.Array:
    """The reference's lerp_clip: a + (b - a) * clip(t, 0, 1)."""
    return a + (b - a) * jnp.clip(t, 0.0, 1.0)


def _implementation() -> str:
    # jaxgan's oneDNN convolutions on the CPU (several times XLA's speed there), XLA's
    # own elsewhere.
    chosen = layers.resolve_implementation("conv", "auto")
    return chosen if chosen in ("onednn", "xla") else "xla"


def conv(x: jax.Array, layer: dict, gain: float = SQRT2) -> jax.Array:
    """A stride-1 'SAME' convolution with the equalized-learning-rate scale, plus bias."""
    kernel = layer["w"]
    size = kernel.shape[0]
    scale = gain / math.sqrt(size * size * kernel.shape[2])
    pad = ((size // 2, size // 2),) * 2
    y = onednn_conv.conv(x, kernel * scale, (1, 1), pad, implementation=_implementation())
    return y + layer["b"]


def dense(x: jax.Array, layer: dict, gain: float = SQRT2) -> jax.Array:
    kernel = layer["w"]
    return x @ (kernel * (gain / math.sqrt(kernel.shape[0]))) + layer["b"]


# --- G -------------------------------------------------------------------------------


def g_layer_shapes(spec: Spec) -> dict[str, tuple[tuple[int, ...], int]]:
    """Layer name -> (weight shape, bias size), in the reference's order."""
    nf, channels = spec.nf, spec.channels
    shapes = {
        "dense": ((spec.latent_dim, nf(1) * 16), nf(1)),
        "conv4": ((3, 3, nf(1), nf(1)), nf(1)),
        "torgb4": ((1, 1, nf(1), channels), channels),
    }
    for r in range(3, spec.resolution_log2 + 1):
        res = 2**r
        shapes[f"conv{res}_0"] = ((3, 3, nf(r - 2), nf(r - 1)), nf(r - 1))
        shapes[f"conv{res}_1"] = ((3, 3, nf(r - 1), nf(r - 1)), nf(r - 1))
        shapes[f"torgb{res}"] = ((1, 1, nf(r - 1), channels), channels)
    return shapes


def g_block(params: dict, x: jax.Array, r: int) -> jax.Array:
    """G's block at resolution 2^r: each conv, then bias, leaky ReLU, pixel norm."""
    if r == 2:
        n = x.shape[0]
        x = dense(pixel_norm(x), {"w": params["dense"]["w"], "b": 0.0}, gain=SQRT2 / 4)
        # The reference's dense output is NCHW (unit j: channel j // 16, pixel j % 16);
        # its bias is per channel, added after the reshape.
        x = x.reshape(n, -1, 4, 4).transpose(0, 2, 3, 1) + params["dense"]["b"]
        x = pixel_norm(leaky_relu(x))
        return pixel_norm(leaky_relu(conv(x, params["conv4"])))
    res = 2**r
    x = pixel_norm(leaky_relu(conv(upsample(x, 2), params[f"conv{res}_0"])))
    return pixel_norm(leaky_relu(conv(x, params[f"conv{res}_1"])))


def to_rgb(params: dict, x: jax.Array, r: int) -> jax.Array:
    return conv(x, params[f"torgb{2**r}"], gain=1.0)


def generate(params: dict, z: jax.Array, spec: Spec, level: int, fade: jax.Array) -> jax.Array:
    """G's image at full resolution for a static level r (resolution 2^r) and a fade
    f in [0, 1]: (1 - f) toRGB_r(block_r(h)) + f upsample(toRGB_{r-1}(h)), h the
    features of block r - 1, then nearest-upsampled by 2^(R - r). No output activation
    (the reference's G is linear; images are clipped only when written)."""
    x = g_block(params, z, 2)
    for r in range(3, level):
        x = g_block(params, x, r)
    if level == 2:
        image = to_rgb(params, x, 2)
    else:
        new = to_rgb(params, g_block(params, x, level), level)
        image = lerp(new, upsample(to_rgb(params, x, level - 1), 2), fade)
    return upsample(image, 2 ** (spec.resolution_log2 - level))


# --- D -------------------------------------------------------------------------------


def d_layer_shapes(spec: Spec) -> dict[str, tuple[tuple[int, ...], int]]:
    nf, channels = spec.nf, spec.channels
    shapes = {}
    for r in range(spec.resolution_log2, 2, -1):
        res = 2**r
        shapes[f"fromrgb{res}"] = ((1, 1, channels, nf(r - 1)), nf(r - 1))
        shapes[f"conv{res}_0"] = ((3, 3, nf(r - 1), nf(r - 1)), nf(r - 1))
        shapes[f"conv{res}_1"] = ((3, 3, nf(r - 1), nf(r - 2)), nf(r - 2))
    extra = 1 if spec.mbstd_group_size > 1 else 0
    shapes["fromrgb4"] = ((1, 1, channels, nf(1)), nf(1))
    shapes["conv4"] = ((3, 3, nf(1) + extra, nf(1)), nf(1))
    shapes["dense0"] = ((nf(1) * 16, nf(0)), nf(0))
    shapes["dense1"] = ((nf(0), 1), 1)
    return shapes


def from_rgb(params: dict, image: jax.Array, r: int) -> jax.Array:
    return leaky_relu(conv(image, params[f"fromrgb{2**r}"]))


def d_block(params: dict, x: jax.Array, r: int) -> jax.Array:
    """D's block at resolution 2^r (r >= 3): conv, leaky ReLU; conv fused with 2x2
    average pooling (the reference's default conv2d_downscale2d: the pooling comes
    before the bias and the activation), bias, leaky ReLU."""
    res = 2**r
    x = leaky_relu(conv(x, params[f"conv{res}_0"]))
    layer = params[f"conv{res}_1"]
    pooled = downsample(conv(x, {"w": layer["w"], "b": 0.0}), 2)
    return leaky_relu(pooled + layer["b"])


def d_final(params: dict, x: jax.Array, spec: Spec) -> jax.Array:
    if spec.mbstd_group_size > 1:
        x = minibatch_stddev(x, spec.mbstd_group_size)
    x = leaky_relu(conv(x, params["conv4"]))
    # Flattened in the reference's NCHW order.
    x = x.transpose(0, 3, 1, 2).reshape(x.shape[0], -1)
    x = leaky_relu(dense(x, params["dense0"]))
    return dense(x, params["dense1"], gain=1.0)


def discriminate(
    params: dict, images: jax.Array, spec: Spec, level: int, fade: jax.Array
) -> jax.Array:
    """D's scores (N, 1) of full-resolution images at a static level r and fade f:
    the images average-pooled to 2^r, and the features entering block r - 1 the blend
    (1 - f) block_r(fromRGB_r(x_r)) + f fromRGB_{r-1}(pool(x_r))."""
    x_level = downsample(images, 2 ** (spec.resolution_log2 - level))
    if level == 2:
        x = from_rgb(params, x_level, 2)
    else:
        new = d_block(params, from_rgb(params, x_level, level), level)
        x = lerp(new, from_rgb(params, downsample(x_level, 2), level - 1), fade)
        for r in range(level - 1, 2, -1):
            x = d_block(params, x, r)
    return d_final(params, x, spec)


def fade_reals(images: jax.Array, spec: Spec, level: int, fade: jax.Array) -> jax.Array:
    """Real images as the reference's process_reals shows them to D at (level, fade):
    pooled to 2^r, blended by f with their own 2x pooled-then-upsampled version
    (FadeLOD), then nearest-upsampled back to the full resolution (UpscaleLOD)."""
    factor = 2 ** (spec.resolution_log2 - level)
    x = downsample(images, factor)
    x = lerp(x, upsample(downsample(x, 2), 2), fade)
    return upsample(x, factor)


def level_and_fade(lod: jax.Array, spec: Spec) -> tuple[jax.Array, jax.Array]:
    """(index of the level r - 2, fade f) of a level of detail: r = R - floor(lod)."""
    whole = jnp.floor(lod)
    index = jnp.clip(spec.resolution_log2 - 2 - whole, 0, lod_levels(spec) - 1)
    return index.astype(jnp.int32), lod - whole


def _at_level(function, spec: Spec, level: int, fade: jax.Array, *operands) -> jax.Array:
    return function(*operands, spec, level, fade)


def at_lod(function, lod: jax.Array, spec: Spec, *operands) -> jax.Array:
    """function(*operands, spec, level, fade) at the level `lod` selects (lax.switch:
    every level compiled once, only the active one run)."""
    index, fade = level_and_fade(lod, spec)
    branches = [
        functools.partial(_at_level, function, spec, level, fade)
        for level in range(2, spec.resolution_log2 + 1)
    ]
    return jax.lax.switch(index, branches, *operands)


# --- Modules ---------------------------------------------------------------------------


class _Layer(nn.Module):
    """One layer's weight (N(0, 1): the equalized learning rate scales it at run time)
    and bias (zeros)."""

    shape: tuple[int, ...]
    bias: int

    @nn.compact
    def __call__(self) -> dict:
        w = self.param("w", nn.initializers.normal(1.0), self.shape)
        return {"w": w, "b": self.param("b", nn.initializers.zeros, (self.bias,))}


class _Progressive(nn.Module):
    spec: Spec
    initial_lod: float

    def layer_params(self, shapes) -> dict:
        return {name: _Layer(shape, bias, name=name)() for name, (shape, bias) in shapes.items()}

    def lod(self) -> jax.Array:
        return self.variable("progress", "lod", lambda: jnp.float32(self.initial_lod)).value


class Generator(_Progressive):
    """G(z) -> full-resolution images at the net's own level of detail."""

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = False) -> jax.Array:
        del train  # no BatchNorm or dropout
        params = self.layer_params(g_layer_shapes(self.spec))
        return at_lod(generate, self.lod(), self.spec, params, z)


class Discriminator(_Progressive):
    """D(images at full resolution) -> scores (N, 1) at the net's own level of detail."""

    @nn.compact
    def __call__(self, images: jax.Array, train: bool = False) -> jax.Array:
        del train
        params = self.layer_params(d_layer_shapes(self.spec))
        return at_lod(discriminate, self.lod(), self.spec, params, images)
