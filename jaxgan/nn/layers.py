"""Strided (transposed) convolutions with faster lowerings than Flax's stock ones on XLA:CPU.

On XLA:CPU the kernel gradient of ``nn.ConvTranspose`` (a convolution with input dilation) is
10-50x slower than its forward pass; splitting the layer into stride-1 convolutions, one per
output phase (sub-pixel convolution, Shi et al. 2016), makes every pass a plain convolution.
Likewise the input gradient of a strided ``nn.Conv`` is an input-dilated convolution; through a
space-to-depth rearrangement (as in Shi et al. 2016, run backwards) it is a stride-1 one.
"""

import functools
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
from flax import linen as nn
from flax.linen.dtypes import promote_dtype
from flax.linen.linear import default_kernel_init
from jax import lax
from jax.custom_derivatives import SymbolicZero

from jaxgan.cpu import onednn_conv
from jaxgan.runtime.errors import UserError

Array = jax.Array
Packing = Literal["separate", "shared", "union"]

_DIMENSION_NUMBERS = ("NHWC", "HWIO", "NHWC")

# The one place that decides what implementation="auto" means: layer -> jax backend name ->
# implementation; backends not listed get the stock lowering 'xla'. Measured on XLA:CPU (jax
# 0.10.2, 2 shared cores, batch 32, DCGAN 64x64 layers) with `python -m jaxgan.benchmarks.layers`:
# - UpsampleConvTranspose: 'phase' is 4-30x faster for forward + both gradients on each of the
#   four generator layers, because the stock kernel gradient takes 0.15-1.6 s per layer.
# - DownsampleConv: 'space_to_depth' makes the input gradient of 32x32x64->16x16x128 1.5-3x
#   faster, is a little slower on 8x8x256->4x4x512, and makes forward + backward of the whole
#   four-layer discriminator stack 7-20% faster (interleaved A/B runs).
# Measured on one H100 (jax 0.11.2, cuDNN, the whole DCGAN 64 train step at batch 256 through
# `python -m jaxgan.bench --layer_implementation=...`; BENCHMARKS.md):
# - UpsampleConvTranspose: 'phase' 31k img/s vs 'xla' 18.5k in float32, 47k vs 41k in bf16.
# - DownsampleConv: 'space_to_depth' and 'xla' within 1% of each other, so 'xla' stays.
# TPU has not been measured: it keeps 'xla' until someone runs the benchmark there.
# Measured on XLA:CPU again with a third choice, 'onednn' (jaxgan/cpu/onednn_conv.py: all three
# passes of both layers through oneDNN): XLA:CPU's kernel gradients run at 20-70 GFLOP/s on
# DCGAN's shapes, oneDNN's at 95-190, and the whole DCGAN 64 step at batch 32 takes
# 0.81-0.84x the time it takes with 'phase' and 'space_to_depth' (BENCHMARKS.md).
# The FID Inception network's convolutions (forward only; jaxgan/metrics/inception.py):
# 'onednn' made its features 2.2x faster than 'xla' on the idle 2-core CPU at batch 16
# (5.27 -> 11.72 img/s; python -m jaxgan.benchmarks.inception, BENCHMARKS.md).
AUTO_IMPLEMENTATION: dict[str, dict[str, str]] = {
    "conv_transpose": {"cpu": "onednn", "gpu": "phase"},
    "conv": {"cpu": "onednn"},
    "inception_conv": {"cpu": "onednn"},
}
_IMPLEMENTATIONS = {
    "conv_transpose": ("onednn", "phase", "xla"),
    "conv": ("onednn", "space_to_depth", "xla"),
    "inception_conv": ("onednn", "xla"),
}


def override_auto_implementation(spec: str, backend: str | None = None) -> None:
    """Sets what 'auto' means on `backend` (default: jax's) for this process, from
    'LAYER=IMPL[,LAYER=IMPL]' (e.g. 'conv_transpose=xla,conv=space_to_depth'): how
    `jaxgan.bench --layer_implementation` measures each lowering of the real step."""
    backend = backend or jax.default_backend()
    for item in filter(None, spec.split(",")):
        layer, _, implementation = item.partition("=")
        if layer not in _IMPLEMENTATIONS or implementation not in _IMPLEMENTATIONS[layer]:
            choices = "; ".join(f"{k}={'|'.join(v)}" for k, v in _IMPLEMENTATIONS.items())
            raise UserError(f"layer implementation {item!r} is not one of: {choices}")
        AUTO_IMPLEMENTATION[layer][backend] = implementation


def resolve_implementation(layer: str, implementation: str, backend: str | None = None) -> str:
    """Maps 'auto' for `layer` ('conv_transpose', 'conv' or 'inception_conv') on `backend`
    (default: jax's)."""
    choices = _IMPLEMENTATIONS[layer]
    if implementation != "auto" and implementation not in choices:
        raise ValueError(
            f"implementation must be 'auto' or one of {choices}, got {implementation!r}"
        )
    if implementation != "auto":
        return implementation
    return AUTO_IMPLEMENTATION[layer].get(backend or jax.default_backend(), "xla")


class _AxisPlan(NamedTuple):
    """How one spatial axis of a transposed convolution splits into `stride` phases."""

    out_size: int  # length of the transposed convolution's output on this axis
    per_phase: int  # outputs per phase, ceil(out_size / stride); the last may be cropped
    taps: int  # kernel taps per phase (phases with fewer get zero taps appended)
    first_tap: tuple[int, ...]  # per phase r: kernel index of its first tap
    shift: tuple[int, ...]  # per phase r: input index its first tap reads for output 0


def _axis_plan(size: int, kernel: int, stride: int, pad: tuple[int, int]) -> _AxisPlan:
    # lax.conv_transpose (transpose_kernel=False) correlates the stride-dilated input, padded by
    # `pad`, with the kernel: y[o] = sum_t k[t] * x[(o + t - lo) / stride] over the t for which
    # that index is an integer. For o = stride * m + r only t = first_tap[r] + stride * j
    # qualify, and they read x[m + shift[r] + j]: a stride-1 correlation per phase r.
    lo, hi = pad
    out_size = (size - 1) * stride + 1 + lo + hi - kernel + 1
    first_tap = tuple((lo - r) % stride for r in range(stride))
    shift = tuple((r + t - lo) // stride for r, t in enumerate(first_tap))
    taps = max(1, max(-(-(kernel - t) // stride) for t in first_tap))
    return _AxisPlan(out_size, -(-out_size // stride), taps, first_tap, shift)


def _phase_taps(kernel: Array, axis: int, stride: int, first: int, taps: int) -> Array:
    """Kernel taps first, first + stride, ... along `axis`, zero where past the kernel's end."""
    stop = first + stride * (taps - 1) + 1
    if stop > kernel.shape[axis]:
        widths = [(0, 0)] * kernel.ndim
        widths[axis] = (0, stop - kernel.shape[axis])
        kernel = jnp.pad(kernel, widths)
    return lax.slice_in_dim(kernel, first, stop, stride, axis)


def _correlate(
    x: Array, kernel: Array, starts: tuple[int, int], out_shape: tuple[int, int], precision: Any
) -> Array:
    """Stride-1 correlation whose output (i, j) reads x[starts[0] + i, starts[1] + j] onwards.

    Reads outside x are zeros. The part of the window outside x is passed as the convolution's
    padding only when non-negative: XLA:CPU (jax 0.10.2) returns garbage for a convolution with
    padding (-1, 1), so a negative side is cropped off x instead.
    """
    crops, pads = [], []
    for axis, (start, out) in enumerate(zip(starts, out_shape, strict=True)):
        size, length = x.shape[1 + axis], out + kernel.shape[axis] - 1
        begin, end = min(max(start, 0), size), min(max(start + length, 0), size)
        if begin >= end:  # the window misses x entirely: every read is padding
            return jnp.zeros((x.shape[0], *out_shape, kernel.shape[-1]), x.dtype)
        crops.append((begin, end))
        pads.append((begin - start, start + length - end))
    x = x[:, crops[0][0] : crops[0][1], crops[1][0] : crops[1][1]]
    return lax.conv_general_dilated(
        x, kernel, (1, 1), pads, dimension_numbers=_DIMENSION_NUMBERS, precision=precision
    )


def _interleave(phases: list[list[Array]], out_shape: tuple[int, int]) -> Array:
    """phases[a][b] of shape (N, M, M', C) holds outputs (s*m + a, s'*m' + b): depth-to-space."""
    y = jnp.stack([jnp.stack(row, axis=3) for row in phases], axis=2)
    n, m_h, s_h, m_w, s_w, c = y.shape
    return y.reshape(n, m_h * s_h, m_w * s_w, c)[:, : out_shape[0], : out_shape[1]]


def conv_transpose_phase(
    x: Array,
    kernel: Array,
    strides: Sequence[int],
    padding: Sequence[tuple[int, int]],
    *,
    packing: Packing = "separate",
    precision: Any = None,
) -> Array:
    """Equals lax.conv_transpose(x, kernel, strides, padding, dimension_numbers=NHWC/HWIO/NHWC).

    x is (N, H, W, C_in), kernel (kh, kw, C_in, C_out), padding explicit (lo, hi) pairs, as in
    nn.ConvTranspose with transpose_kernel=False and no kernel dilation. `packing` chooses how
    the stride_h * stride_w phase convolutions run: 'separate' (one convolution each),
    'shared' (one convolution with all phase kernels side by side on the output channels, on
    a window one step wider, then each phase's offset slice) or 'union' (one convolution with
    each phase kernel zero-embedded in their common window, then a plain depth-to-space).
    On XLA:CPU 'separate' is the fastest for forward plus both gradients: 'shared' has a 0.1-5 s
    kernel gradient like the stock lowering, and 'union' does (2k/s - 1)^2 / (k/s)^2 = 2.25x the
    multiplications for k=4, s=2 (see jaxgan.benchmarks.layers).
    """
    if packing not in ("separate", "shared", "union"):
        raise ValueError(f"packing must be 'separate', 'shared' or 'union', got {packing!r}")
    s_h, s_w = strides
    plan_h = _axis_plan(x.shape[1], kernel.shape[0], s_h, tuple(padding[0]))
    plan_w = _axis_plan(x.shape[2], kernel.shape[1], s_w, tuple(padding[1]))
    if plan_h.out_size < 1 or plan_w.out_size < 1:
        raise ValueError(f"padding {padding} leaves an empty output for input {x.shape}")
    out_shape = (plan_h.out_size, plan_w.out_size)
    per_phase = (plan_h.per_phase, plan_w.per_phase)
    sub = [
        [
            _phase_taps(
                _phase_taps(kernel, 0, s_h, plan_h.first_tap[a], plan_h.taps),
                1,
                s_w,
                plan_w.first_tap[b],
                plan_w.taps,
            )
            for b in range(s_w)
        ]
        for a in range(s_h)
    ]
    phases = [(a, b) for a in range(s_h) for b in range(s_w)]
    if packing == "separate":
        ys = [
            [
                _correlate(x, sub[a][b], (plan_h.shift[a], plan_w.shift[b]), per_phase, precision)
                for b in range(s_w)
            ]
            for a in range(s_h)
        ]
        return _interleave(ys, out_shape)
    low = (min(plan_h.shift), min(plan_w.shift))
    spread = (max(plan_h.shift) - low[0], max(plan_w.shift) - low[1])
    c_out = kernel.shape[-1]
    if packing == "shared":
        # Phase (a, b) output m is the shared output m + shift - low: slice it back out.
        shared = (per_phase[0] + spread[0], per_phase[1] + spread[1])
        packed = jnp.concatenate([sub[a][b] for a, b in phases], axis=-1)
        y = _correlate(x, packed, low, shared, precision)
        ys = [[None] * s_w for _ in range(s_h)]
        for i, (a, b) in enumerate(phases):
            oh, ow = plan_h.shift[a] - low[0], plan_w.shift[b] - low[1]
            ys[a][b] = y[
                :, oh : oh + per_phase[0], ow : ow + per_phase[1], i * c_out : (i + 1) * c_out
            ]
        return _interleave(ys, out_shape)
    # packing == "union": each phase kernel sits at its own offset inside a (taps + spread)-wide
    # window, so all phases share output positions and depth-to-space is a reshape.
    packed = jnp.concatenate(
        [
            jnp.pad(
                sub[a][b],
                (
                    (plan_h.shift[a] - low[0], low[0] + spread[0] - plan_h.shift[a]),
                    (plan_w.shift[b] - low[1], low[1] + spread[1] - plan_w.shift[b]),
                    (0, 0),
                    (0, 0),
                ),
            )
            for a, b in phases
        ],
        axis=-1,
    )
    y = _correlate(x, packed, low, per_phase, precision)
    n = x.shape[0]
    y = y.reshape(n, per_phase[0], per_phase[1], s_h, s_w, c_out)
    y = y.transpose(0, 1, 3, 2, 4, 5).reshape(n, per_phase[0] * s_h, per_phase[1] * s_w, c_out)
    return y[:, : out_shape[0], : out_shape[1]]


def _check_settings(
    module: nn.Module, inputs: Array
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, int], ...]]:
    """(kernel_size, strides, padding pairs) of a 2-D module, or a ValueError saying what is off."""
    kernel_size, strides, padding = tuple(module.kernel_size), tuple(module.strides), module.padding
    if isinstance(padding, str):
        raise ValueError(
            f"padding {padding!r} is not supported: give explicit (low, high) pairs; PyTorch's "
            "k=4, s=2, p=1 is ((2, 2), (2, 2)) for UpsampleConvTranspose (output 2H) and "
            "((1, 1), (1, 1)) for DownsampleConv (output H/2)"
        )
    if isinstance(padding, int):
        padding = (padding, padding)
    padding = tuple((p, p) if isinstance(p, int) else tuple(p) for p in padding)
    if len(padding) != 2 or any(len(p) != 2 for p in padding):
        raise ValueError(f"padding must be two (low, high) pairs, got {module.padding!r}")
    if len(kernel_size) != 2 or len(strides) != 2:
        raise ValueError(
            f"2-D only: kernel_size {kernel_size} and strides {strides} need two entries"
        )
    if min(kernel_size) < 1 or min(strides) < 1:
        raise ValueError(f"kernel_size {kernel_size} and strides {strides} must be >= 1")
    if inputs.ndim < 3:
        raise ValueError(f"expected (..., H, W, C) inputs, got shape {inputs.shape}")
    return kernel_size, strides, padding


def _strided_layer(module: nn.Module, inputs: Array, layer: str, compute: Callable) -> Array:
    """What both layers share: settings checked, the implementation chosen, the `kernel`
    parameter made and promoted as Flax's own layers do, and every leading dimension
    folded into one batch axis (none: one is added) around `compute`."""
    kernel_size, strides, padding = _check_settings(module, inputs)
    implementation = resolve_implementation(layer, module.implementation)
    kernel = module.param(
        "kernel",
        module.kernel_init,
        kernel_size + (inputs.shape[-1], module.features),
        module.param_dtype,
    )
    inputs, kernel = promote_dtype(inputs, kernel, dtype=module.dtype)
    batch_shape = inputs.shape[:-3]
    x = inputs.reshape((-1,) + inputs.shape[-3:])
    y = compute(x, kernel, strides, padding, implementation)
    return y.reshape(batch_shape + y.shape[1:])


class UpsampleConvTranspose(nn.Module):
    """Drop-in for nn.ConvTranspose in the upsampling layers of a GAN generator.

    Computes exactly ``nn.ConvTranspose(features, kernel_size, strides, padding, use_bias=False,
    transpose_kernel=False, kernel_dilation=None, mask=None)`` with the same single parameter
    ``kernel`` of shape (kh, kw, in_features, features), the same default initializer and the
    same dtype promotion, on 2-D NHWC inputs with any number of leading batch dimensions.
    Defaults are the DCGAN layer, PyTorch ConvTranspose2d(k=4, s=2, p=1): output (2H, 2W).
    Any kernel size, strides and explicit integer padding pairs work; string padding
    ('SAME', 'VALID', 'CIRCULAR'), a bias, a mask, kernel dilation and transpose_kernel=True
    are not offered (add a bias as a separate term). The Flax module name differs, so name the
    layer explicitly (``name=``) to keep the parameter paths of an auto-named nn.ConvTranspose.

    implementation: 'xla' is nn.ConvTranspose's lowering (lax.conv_transpose); 'phase' is
    conv_transpose_phase; 'onednn' runs all three passes through oneDNN on the CPU
    (jaxgan/cpu/onednn_conv.conv_transpose), and is 'phase' where that cannot run (not float32,
    oneDNN not built, a padding side above kernel_size - 1); 'auto' looks up
    AUTO_IMPLEMENTATION for jax's default backend.
    """

    features: int
    kernel_size: Sequence[int] = (4, 4)
    strides: Sequence[int] = (2, 2)
    padding: Sequence[tuple[int, int]] = ((2, 2), (2, 2))
    dtype: Any = None
    param_dtype: Any = jnp.float32
    precision: Any = None
    kernel_init: Callable[..., Array] = default_kernel_init
    implementation: Literal["auto", "onednn", "phase", "xla"] = "auto"

    @nn.compact
    def __call__(self, inputs: Array) -> Array:
        def compute(x, kernel, strides, padding, implementation):
            if implementation == "xla":
                return lax.conv_transpose(
                    x,
                    kernel,
                    strides,
                    padding,
                    dimension_numbers=_DIMENSION_NUMBERS,
                    precision=self.precision,
                )
            if implementation == "onednn" and onednn_conv.runs_natively(x.dtype):
                precision = self.precision
                y = onednn_conv.conv_transpose(x, kernel, strides, padding, precision=precision)
                if y is not None:
                    return y
            return conv_transpose_phase(x, kernel, strides, padding, precision=self.precision)

        return _strided_layer(self, inputs, "conv_transpose", compute)


def conv_space_to_depth(
    x: Array,
    kernel: Array,
    strides: Sequence[int],
    padding: Sequence[tuple[int, int]],
    *,
    precision: Any = None,
) -> Array:
    """Equals lax.conv_general_dilated(x, kernel, strides, padding, NHWC/HWIO/NHWC dimensions).

    A stride-s convolution with a k-tap kernel is a stride-1 convolution with ceil(k/s) taps
    over the input cut into s x s blocks stacked on the channel axis (space-to-depth), with the
    kernel cut and stacked the same way (zero taps appended when s does not divide k).
    """
    n, c_in, c_out = x.shape[0], x.shape[-1], kernel.shape[-1]
    blocks, kernel_pad, input_pad = [], [], [(0, 0, 0)]
    for axis in range(2):
        size, taps, stride = x.shape[1 + axis], kernel.shape[axis], strides[axis]
        lo, hi = padding[axis]
        out = (size + lo + hi - taps) // stride + 1
        if out < 1:
            raise ValueError(f"padding {padding} leaves an empty output for input {x.shape}")
        block_taps = -(-taps // stride)
        blocks.append(out + block_taps - 1)
        kernel_pad.append((0, block_taps * stride - taps))
        # Exactly the rows the outputs read; lax.pad crops where this is negative.
        input_pad.append((lo, stride * blocks[-1] - size - lo, 0))
    input_pad.append((0, 0, 0))
    s_h, s_w = strides
    x = lax.pad(x, jnp.zeros((), x.dtype), input_pad)
    x = x.reshape(n, blocks[0], s_h, blocks[1], s_w, c_in).transpose(0, 1, 3, 2, 4, 5)
    x = x.reshape(n, blocks[0], blocks[1], s_h * s_w * c_in)
    kernel = jnp.pad(kernel, (*kernel_pad, (0, 0), (0, 0)))
    q_h, q_w = kernel.shape[0] // s_h, kernel.shape[1] // s_w
    kernel = kernel.reshape(q_h, s_h, q_w, s_w, c_in, c_out).transpose(0, 2, 1, 3, 4, 5)
    kernel = kernel.reshape(q_h, q_w, s_h * s_w * c_in, c_out)
    return lax.conv_general_dilated(
        x, kernel, (1, 1), "VALID", dimension_numbers=_DIMENSION_NUMBERS, precision=precision
    )


def _conv(x: Array, kernel: Array, strides: tuple, padding: tuple, precision: Any) -> Array:
    return lax.conv_general_dilated(
        x, kernel, strides, padding, dimension_numbers=_DIMENSION_NUMBERS, precision=precision
    )


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3, 4))
def conv_input_grad_space_to_depth(
    x: Array, kernel: Array, strides: tuple, padding: tuple, precision: Any = None
) -> Array:
    """XLA's strided convolution, differentiated so that its input gradient is a stride-1 one.

    The forward pass and the kernel gradient are XLA's own (faster on XLA:CPU than the
    space-to-depth form); only the input gradient, an input-dilated convolution when XLA
    transposes the stock lowering, goes through conv_space_to_depth. Any order and mode of
    differentiation works (a custom JVP, which reverse mode transposes).
    """
    return _conv(x, kernel, strides, padding, precision)


def _conv_jvp(strides, padding, precision, primals, tangents):
    x, kernel = primals
    dx, dkernel = tangents
    y = _conv(x, kernel, strides, padding, precision)
    # The tangent is linear in (dx, dkernel) and reverse mode transposes it term by term: the x
    # term in space-to-depth form transposes to a stride-1 convolution. Symbolic zeros skip a
    # term whose tangent is known to vanish (e.g. the input images when only the kernel is
    # differentiated), which would otherwise cost a full convolution.
    dy = jnp.zeros_like(y)
    if not isinstance(dx, SymbolicZero):
        dy += conv_space_to_depth(dx, kernel, strides, padding, precision=precision)
    if not isinstance(dkernel, SymbolicZero):
        dy += _conv(x, dkernel, strides, padding, precision)
    return y, dy


conv_input_grad_space_to_depth.defjvp(_conv_jvp, symbolic_zeros=True)


class DownsampleConv(nn.Module):
    """Drop-in for nn.Conv in the downsampling layers of a GAN discriminator.

    Computes exactly ``nn.Conv(features, kernel_size, strides, padding, use_bias=False,
    input_dilation=1, kernel_dilation=1, feature_group_count=1, mask=None)`` with the same
    single parameter ``kernel`` (kh, kw, in_features, features), the same default initializer
    and the same dtype promotion, on 2-D NHWC inputs with any number of leading batch
    dimensions. Defaults are the DCGAN layer, PyTorch Conv2d(k=4, s=2, p=1): output (H/2, W/2).
    String padding ('SAME', 'VALID', 'CIRCULAR', 'CAUSAL') and a bias are not offered. Name the
    layer explicitly (``name=``) to keep the parameter paths of an auto-named nn.Conv.

    implementation: 'xla' is nn.Conv's lowering; 'space_to_depth' is
    conv_input_grad_space_to_depth (same forward and kernel gradient, input gradient via
    space-to-depth); 'onednn' runs all three passes through oneDNN on the CPU
    (jaxgan/cpu/onednn_conv.conv), and is 'space_to_depth' where that cannot run (not float32,
    oneDNN not built); 'auto' looks up AUTO_IMPLEMENTATION for jax's default backend.
    """

    features: int
    kernel_size: Sequence[int] = (4, 4)
    strides: Sequence[int] = (2, 2)
    padding: Sequence[tuple[int, int]] = ((1, 1), (1, 1))
    dtype: Any = None
    param_dtype: Any = jnp.float32
    precision: Any = None
    kernel_init: Callable[..., Array] = default_kernel_init
    implementation: Literal["auto", "onednn", "space_to_depth", "xla"] = "auto"

    @nn.compact
    def __call__(self, inputs: Array) -> Array:
        def compute(x, kernel, strides, padding, implementation):
            if implementation == "xla":
                return _conv(x, kernel, strides, padding, self.precision)
            if implementation == "onednn" and onednn_conv.runs_natively(x.dtype):
                return onednn_conv.conv(x, kernel, strides, padding, precision=self.precision)
            return conv_input_grad_space_to_depth(x, kernel, strides, padding, self.precision)

        return _strided_layer(self, inputs, "conv", compute)


class Bias(nn.Module):
    """A learned per-channel bias starting at 0, for the strided layers above (which have
    none) where a reference network has one."""

    @nn.compact
    def __call__(self, x: Array) -> Array:
        return x + self.param("bias", nn.initializers.zeros, (x.shape[-1],)).astype(x.dtype)
