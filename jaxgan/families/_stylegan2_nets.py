"""StyleGAN2's networks as NVlabs/stylegan2-ada-pytorch's training/networks.py builds
them (G: mapping + 'skip' synthesis; D: 'resnet' or 'orig' blocks + epilogue), in NHWC
with HWIO kernels; parameter counts equal the reference's (tests/test_stylegan2.py).

Equalized learning rate as the reference: weights drawn N(0, 1) (the mapping layers'
N(0, 1) / lr_multiplier) and scaled at run time by lr_multiplier / sqrt(fan_in); biases
scaled by lr_multiplier. Collections besides "params": "buffers" (each layer's constant
noise map, drawn once at init) and G's "stats" (w_avg, the tracked mean of w).

Noise: `noise_mode` "random" (training: one N(0, 1) map per sample and layer, from the
"noise" rng), "const" (the stored maps: what the reference's snapshots and generate
script use, and jaxgan's grids and jaxgan.sample), "seeded" (random maps drawn from a
key made of the latents, so a score is repeatable: what FID gets, as the reference's
metrics draw random noise) or "none".
"""

import math
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.families import _stylegan2_ops as ops
from jaxgan.nn.minibatch import minibatch_stddev


class Spec(NamedTuple):
    resolution: int
    channels: int
    z_dim: int = 512
    w_dim: int = 512
    c_dim: int = 0
    mapping_layers: int = 8
    channel_base: int = 32768
    channel_max: int = 512
    conv_clamp: float | None = 256.0
    d_architecture: str = "resnet"  # or "orig" (the cifar config)
    mbstd_group_size: int = 4
    d_mapping_layers: int = 8  # D's label mapping (train.py leaves it at the default)
    # The reference's mixed precision: the num_fp16_res highest resolutions (at least
    # 8x8) of G's and D's blocks compute in `dtype` (bfloat16 here, where it runs float16
    # with loss scaling); the mapping, the images' sum and D's epilogue stay float32.
    dtype: str = "float32"
    num_fp16_res: int = 4

    def nf(self, resolution: int) -> int:
        return min(self.channel_base // resolution, self.channel_max)

    @property
    def log2(self) -> int:
        return int(math.log2(self.resolution))

    @property
    def num_ws(self) -> int:
        return 2 * self.log2 - 2

    def block_dtype(self, resolution: int):
        """The reference's rule: resolutions >= max(2^(log2 + 1 - num_fp16_res), 8)."""
        low = max(2 ** (self.log2 + 1 - self.num_fp16_res), 8)
        return jnp.dtype(self.dtype) if resolution >= low else jnp.dtype(jnp.float32)


def normalize_2nd_moment(x: jax.Array) -> jax.Array:
    return x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=1, keepdims=True) + 1e-8)


class FullyConnected(nn.Module):
    features: int
    activation: str = "linear"
    lr_multiplier: float = 1.0
    bias_init: float = 0.0

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        fan_in = x.shape[-1]
        w = self.param(
            "w", lambda k, s: jax.random.normal(k, s) / self.lr_multiplier, (fan_in, self.features)
        )
        b = self.param("b", nn.initializers.constant(self.bias_init), (self.features,))
        y = x @ (w * (self.lr_multiplier / math.sqrt(fan_in)))
        return ops.bias_act(y, b * self.lr_multiplier, self.activation)


class Mapping(nn.Module):
    """z (and labels) -> w (N, w_dim); `num_ws` repeats it (N, num_ws, w_dim) and tracks
    w_avg (decay w_avg_beta) in training."""

    spec: Spec
    num_layers: int
    num_ws: int | None
    w_avg_beta: float | None = 0.995

    @nn.compact
    def __call__(self, z, labels=None, *, train=False, update_w_avg=True, psi=1.0, cutoff=None):
        spec, parts = self.spec, []
        if z is not None:
            parts.append(normalize_2nd_moment(z.astype(jnp.float32)))
        if spec.c_dim:
            onehot = jax.nn.one_hot(labels, spec.c_dim)
            parts.append(normalize_2nd_moment(FullyConnected(spec.w_dim, name="embed")(onehot)))
        x = jnp.concatenate(parts, axis=1)
        for index in range(self.num_layers):
            x = FullyConnected(spec.w_dim, "lrelu", 0.01, name=f"fc{index}")(x)
        if self.num_ws is None:
            return x
        w_avg = self.variable("stats", "w_avg", lambda: jnp.zeros((spec.w_dim,), jnp.float32))
        if train and update_w_avg and not self.is_initializing():
            mean = jax.lax.stop_gradient(jnp.mean(x, axis=0))
            w_avg.value = mean + (w_avg.value - mean) * self.w_avg_beta
        ws = jnp.repeat(x[:, None], self.num_ws, axis=1)
        if psi != 1:
            truncated = w_avg.value + psi * (ws - w_avg.value)
            layers = jnp.arange(self.num_ws)[None, :, None]
            keep = layers >= (self.num_ws if cutoff is None else cutoff)
            ws = jnp.where(keep, ws, truncated)
        return ws


def modulated_conv(x, weight, styles, *, demodulate=True, up=1, fused=False):
    """modulated_conv2d: the weight scaled per sample by styles (N, I), demodulated
    (each output channel to unit norm, eps 1e-8). Fused: one grouped convolution of
    per-sample weights (the reference's eval path); else the inputs are scaled, one
    shared convolution runs and its outputs are demodulated (its training path). The
    coefficients are computed in float32, the convolution in x's dtype."""
    n, dtype = x.shape[0], x.dtype
    if demodulate:
        energy = jnp.einsum("ni,io->no", jnp.square(styles), jnp.sum(jnp.square(weight), (0, 1)))
        dcoefs = jax.lax.rsqrt(energy + 1e-8)
    if not fused:
        scaled = x * styles.astype(dtype)[:, None, None, :]
        y = ops.conv2d_resample(scaled, weight.astype(dtype), up=up)
        return y * dcoefs.astype(dtype)[:, None, None, :] if demodulate else y
    k, _, c_in, c_out = weight.shape
    w = weight[None] * styles[:, None, None, :, None]  # (N, k, k, I, O)
    if demodulate:
        w = w * dcoefs[:, None, None, None, :]
    w = w.transpose(1, 2, 3, 0, 4).reshape(k, k, c_in, n * c_out).astype(dtype)
    grouped = x.transpose(1, 2, 0, 3).reshape(1, *x.shape[1:3], n * c_in)
    y = ops.conv2d_resample(grouped, w, up=up, groups=n)
    return y.reshape(*y.shape[1:3], n, c_out).transpose(2, 0, 1, 3)


class SynthesisLayer(nn.Module):
    spec: Spec
    features: int
    resolution: int
    up: int = 1

    @nn.compact
    def __call__(self, x, w, *, noise_mode="random", fused=False, noise_key=None):
        c_in, dtype = x.shape[-1], self.spec.block_dtype(self.resolution)
        x = x.astype(dtype)
        styles = FullyConnected(c_in, bias_init=1.0, name="affine")(w)
        weight = self.param("weight", nn.initializers.normal(1.0), (3, 3, c_in, self.features))
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        strength = self.param("noise_strength", nn.initializers.zeros, ())
        const = self.variable(
            "buffers",
            "noise_const",
            lambda: jax.random.normal(self.make_rng("params"), (self.resolution,) * 2),
        )
        y = modulated_conv(x, weight, styles, up=self.up, fused=fused)
        if noise_mode in ("random", "seeded"):
            shape = (x.shape[0], self.resolution, self.resolution, 1)
            key = self.make_rng("noise") if noise_key is None else noise_key
            y = y + (jax.random.normal(key, shape) * strength).astype(dtype)
        elif noise_mode == "const":
            y = y + (const.value[None, :, :, None] * strength).astype(dtype)
        return ops.bias_act(y, bias.astype(dtype), "lrelu", clamp=self.spec.conv_clamp)


class ToRGB(nn.Module):
    spec: Spec

    @nn.compact
    def __call__(self, x, w, *, fused=False):
        c_in = x.shape[-1]
        styles = FullyConnected(c_in, bias_init=1.0, name="affine")(w) / math.sqrt(c_in)
        weight = self.param("weight", nn.initializers.normal(1.0), (1, 1, c_in, self.spec.channels))
        bias = self.param("bias", nn.initializers.zeros, (self.spec.channels,))
        y = modulated_conv(x, weight, styles, demodulate=False, fused=fused)
        # The image is summed in float32, whatever the block computes in.
        return ops.bias_act(y, bias.astype(y.dtype), clamp=self.spec.conv_clamp).astype(jnp.float32)


class Synthesis(nn.Module):
    """ws (N, num_ws, w_dim) -> images (N, R, R, C): the 'skip' generator, a toRGB at
    every resolution summed into the upsampled image. Block r takes ws[idx : idx + 3]
    (idx + 2 for 4x4), and idx advances by its convolutions only: each toRGB shares its
    w with the next block's first convolution."""

    spec: Spec

    @nn.compact
    def __call__(self, ws, *, noise_mode="random", fused=False, noise_key=None):
        spec, n = self.spec, ws.shape[0]
        const = self.param("const", nn.initializers.normal(1.0), (4, 4, spec.nf(4)))
        x = jnp.broadcast_to(const, (n, 4, 4, spec.nf(4)))
        layer_keys = iter(range(2 * spec.log2))

        def kwargs():
            key = None if noise_key is None else jax.random.fold_in(noise_key, next(layer_keys))
            return {"noise_mode": noise_mode, "fused": fused, "noise_key": key}

        x = SynthesisLayer(spec, spec.nf(4), 4, name="b4_conv1")(x, ws[:, 0], **kwargs())
        image = ToRGB(spec, name="b4_torgb")(x, ws[:, 1], fused=fused)
        index = 1
        for log2 in range(3, spec.log2 + 1):
            res = 2**log2
            x = SynthesisLayer(spec, spec.nf(res), res, up=2, name=f"b{res}_conv0")(
                x, ws[:, index], **kwargs()
            )
            x = SynthesisLayer(spec, spec.nf(res), res, name=f"b{res}_conv1")(
                x, ws[:, index + 1], **kwargs()
            )
            image = ops.upsample2d(image) + ToRGB(spec, name=f"b{res}_torgb")(
                x, ws[:, index + 2], fused=fused
            )
            index += 2
        return image


class Generator(nn.Module):
    """G(z[, labels]) = synthesis(mapping(z, labels)); `train=False` draws with the
    stored noise maps and the fused (grouped) modulated convolutions, as the
    reference's generate script and snapshots do."""

    spec: Spec
    w_avg_beta: float = 0.995

    def setup(self):
        self.synthesis_net = Synthesis(self.spec)
        self.mapping_net = Mapping(
            self.spec, self.spec.mapping_layers, self.spec.num_ws, self.w_avg_beta
        )

    def mapping(self, z, labels=None, *, train=False, update_w_avg=True, psi=1.0, cutoff=None):
        return self.mapping_net(
            z, labels, train=train, update_w_avg=update_w_avg, psi=psi, cutoff=cutoff
        )

    def synthesis(self, ws, *, train=False, noise_mode=None, noise_key=None):
        mode = noise_mode or ("random" if train else "const")
        return self.synthesis_net(ws, noise_mode=mode, fused=not train, noise_key=noise_key)

    def __call__(self, z, labels=None, train=False, psi=1.0, cutoff=None, noise_mode=None):
        ws = self.mapping(z, labels, train=train, psi=psi, cutoff=cutoff)
        noise_key = None
        if noise_mode == "seeded":
            # A key of the batch's latents: the same z give the same images.
            bits = jax.lax.bitcast_convert_type(z.astype(jnp.float32), jnp.uint32)
            noise_key = jax.random.fold_in(jax.random.key(0), jnp.sum(bits, dtype=jnp.uint32))
        return self.synthesis(ws, train=train, noise_mode=noise_mode, noise_key=noise_key)


class Conv(nn.Module):
    """Conv2dLayer: weight N(0, 1) x 1/sqrt(fan_in) at run time, optional bias,
    activation, resampling, the clamp scaled by `gain`."""

    spec: Spec
    features: int
    kernel: int
    activation: str = "lrelu"
    down: int = 1
    bias: bool = True
    clamp: bool = True
    dtype: str = "float32"

    @nn.compact
    def __call__(self, x, gain: float = 1.0):
        c_in = x.shape[-1]
        shape = (self.kernel, self.kernel, c_in, self.features)
        weight = self.param("weight", nn.initializers.normal(1.0), shape)
        weight = (weight / math.sqrt(c_in * self.kernel**2)).astype(self.dtype)
        y = ops.conv2d_resample(x.astype(self.dtype), weight, down=self.down)
        b = self.param("bias", nn.initializers.zeros, (self.features,)) if self.bias else 0.0
        b = jnp.asarray(b).astype(self.dtype)
        clamp = self.spec.conv_clamp * gain if self.clamp and self.spec.conv_clamp else None
        return ops.bias_act(y, b, self.activation, gain, clamp)


class Discriminator(nn.Module):
    """D(images[, labels]) -> logits (N, 1): fromRGB at the top, a block per resolution
    R .. 8 (conv, conv down 2; 'resnet' adds a 1x1 downsampling skip, both branches x
    sqrt(1/2)), then the epilogue at 4x4 (minibatch stddev, conv, dense, dense; with
    labels, the projection onto their 8-layer mapping, / sqrt(cmap_dim))."""

    spec: Spec

    @nn.compact
    def __call__(self, images, labels=None, train=False):
        del train
        spec = self.spec
        x = None
        for log2 in range(spec.log2, 2, -1):
            res = 2**log2
            tmp, out = spec.nf(res), spec.nf(res // 2)
            dtype = spec.block_dtype(res).name
            if x is None:
                x = Conv(spec, tmp, 1, dtype=dtype, name=f"b{res}_fromrgb")(images)
            conv0 = Conv(spec, tmp, 3, dtype=dtype, name=f"b{res}_conv0")
            conv1 = Conv(spec, out, 3, down=2, dtype=dtype, name=f"b{res}_conv1")
            if spec.d_architecture == "resnet":
                skip = Conv(
                    spec,
                    out,
                    1,
                    "linear",
                    2,
                    bias=False,
                    clamp=False,
                    dtype=dtype,
                    name=f"b{res}_skip",
                )
                y = skip(x, gain=math.sqrt(0.5))
                x = y + conv1(conv0(x), gain=math.sqrt(0.5))
            else:
                x = conv1(conv0(x))
        x = x.astype(jnp.float32)  # the epilogue is float32
        channels = spec.nf(4)
        if spec.mbstd_group_size > 1:
            x = minibatch_stddev(x, spec.mbstd_group_size)
        x = Conv(spec, channels, 3, name="b4_conv")(x)
        x = x.transpose(0, 3, 1, 2).reshape(x.shape[0], -1)  # the reference's NCHW flatten
        x = FullyConnected(channels, "lrelu", name="b4_fc")(x)
        cmap_dim = channels if spec.c_dim else 0
        out = FullyConnected(cmap_dim or 1, name="b4_out")(x)
        if not spec.c_dim:
            return out
        cmap = Mapping(
            spec._replace(z_dim=0, w_dim=cmap_dim),
            spec.d_mapping_layers,
            None,
            None,
            name="mapping",
        )(None, labels)
        return jnp.sum(out * cmap, axis=1, keepdims=True) / math.sqrt(cmap_dim)
