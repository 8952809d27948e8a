"""StyleGAN2's resampling operations in jnp/lax, no custom kernels: upfirdn2d, the [1, 3, 3, 1]
FIR filter, and convolutions with up- or downsampling, as NVlabs/stylegan2-ada-pytorch's
torch_utils/ops (upfirdn2d.py's reference path `_upfirdn2d_ref`, conv2d_resample.py)
compute them, in NHWC with HWIO kernels.

upfirdn2d(x, f, up, down, padding): zeros inserted after each sample (upsampling),
zero padding (a negative amount crops), a valid correlation of every channel with the
filter flipped (a true convolution, gain applied), then every down-th sample kept.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.cpu import onednn_conv
from jaxgan.nn import layers


def setup_filter(taps=(1, 3, 3, 1)) -> np.ndarray:
    """The 2-D filter of 1-D taps: their outer product, normalised to sum 1."""
    taps = np.asarray(taps, np.float64)
    kernel = np.outer(taps, taps)
    return (kernel / kernel.sum()).astype(np.float32)


FILTER = setup_filter()


def upfirdn2d(
    x: jax.Array, f: np.ndarray, up: int = 1, down: int = 1, padding=(0, 0, 0, 0), gain: float = 1.0
) -> jax.Array:
    """x (N, H, W, C); padding (x0, x1, y0, y1) as the reference orders it."""
    n, h, w, c = x.shape
    if up > 1:
        z = jnp.zeros((n, h, up, w, up, c), x.dtype).at[:, :, 0, :, 0].set(x)
        x = z.reshape(n, h * up, w * up, c)
    x0, x1, y0, y1 = padding
    x = jnp.pad(x, ((0, 0), (max(y0, 0), max(y1, 0)), (max(x0, 0), max(x1, 0)), (0, 0)))
    x = x[:, max(-y0, 0) : x.shape[1] - max(-y1, 0), max(-x0, 0) : x.shape[2] - max(-x1, 0)]
    kernel = np.asarray(f, np.float64)[::-1, ::-1] * gain  # flip: a true convolution
    out = _correlate(x, kernel)
    return out[:, ::down, ::down] if down > 1 else out


def _correlate(x: jax.Array, kernel: np.ndarray) -> jax.Array:
    """The valid correlation of every channel with a small constant kernel: as two 1-D
    passes when the kernel is separable (the [1, 3, 3, 1] filter: 8 multiply-adds per
    pixel instead of 16), else tap by tap."""
    fh, fw = kernel.shape
    out_h, out_w = x.shape[1] - fh + 1, x.shape[2] - fw + 1
    u, s, vt = np.linalg.svd(kernel)
    if s[1:].max(initial=0.0) <= 1e-12 * s[0]:
        column, row = u[:, 0] * np.sqrt(s[0]), vt[0] * np.sqrt(s[0])
        y = sum(float(column[a]) * x[:, a : a + out_h] for a in range(fh))
        return sum(float(row[b]) * y[:, :, b : b + out_w] for b in range(fw))
    return sum(
        float(kernel[a, b]) * x[:, a : a + out_h, b : b + out_w]
        for a in range(fh)
        for b in range(fw)
        if kernel[a, b] != 0
    )


def upsample2d(x: jax.Array, f: np.ndarray = FILTER) -> jax.Array:
    """2x upsampling: upfirdn2d with up 2, padding ((fw + 1) // 2, (fw - 2) // 2), gain 4."""
    fw = f.shape[0]
    pad = ((fw + 1) // 2, (fw - 2) // 2)
    return upfirdn2d(x, f, up=2, padding=pad + pad, gain=4.0)


def downsample2d(x: jax.Array, f: np.ndarray = FILTER) -> jax.Array:
    fw = f.shape[0]
    pad = ((fw - 1) // 2, (fw - 2) // 2)
    return upfirdn2d(x, f, down=2, padding=pad + pad)


def _implementation() -> str:
    chosen = layers.resolve_implementation("conv", "auto")
    return chosen if chosen in ("onednn", "xla") else "xla"


def conv(x: jax.Array, w: jax.Array, stride: int = 1, padding: int = 0, groups: int = 1):
    """A correlation of NHWC x with the HWIO kernel w (groups: a grouped convolution,
    kernel (k, k, I, groups * O/groups))."""
    pad = ((padding, padding), (padding, padding))
    if groups == 1:
        return onednn_conv.conv(x, w, (stride, stride), pad, implementation=_implementation())
    return jax.lax.conv_general_dilated(
        x,
        w,
        (stride, stride),
        pad,
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        feature_group_count=groups,
    )


def conv2d_resample(x: jax.Array, w: jax.Array, up: int = 1, down: int = 1, groups: int = 1):
    """conv2d_resample(x, w, f=[1,3,3,1], up, down, padding=k // 2) for the layers the
    networks use: a plain 'same' correlation; up 2 (the 3x3 layers: the upsampling FIR,
    then a true convolution with w, i.e. the reference's flip_weight=False); down 2 (the
    FIR, then a stride-2 correlation; for 1x1, the FIR downsampling then the 1x1)."""
    k = w.shape[0]
    p = k // 2
    fw = FILTER.shape[0]
    if up == 1 and down == 1:
        return conv(x, w, padding=p, groups=groups)
    if up == 2:
        if k == 1:
            return upsample2d(conv(x, w, groups=groups))
        pad = (p + (fw + 1) // 2, p + (fw - 2) // 2)
        upsampled = upfirdn2d(x, FILTER, up=2, padding=pad + pad, gain=4.0)
        return conv(upsampled, w[::-1, ::-1], groups=groups)
    if k == 1:
        return conv(downsample2d(x), w, groups=groups)
    pad = (p + (fw - 1) // 2, p + (fw - 2) // 2)
    return conv(upfirdn2d(x, FILTER, padding=pad + pad), w, stride=2, groups=groups)


def bias_act(
    x: jax.Array, b, activation: str = "linear", gain: float = 1.0, clamp: float | None = None
) -> jax.Array:
    """bias_act's reference order: + bias, activation (lrelu 0.2), x (its default gain:
    sqrt(2) for lrelu) x gain, clamped to +-clamp."""
    x = x + b
    if activation == "lrelu":
        x = jnp.where(x >= 0, x, 0.2 * x)
        gain = gain * math.sqrt(2.0)
    if gain != 1.0:
        x = x * gain
    if clamp is not None:
        x = jnp.clip(x, -clamp, clamp)
    return x
