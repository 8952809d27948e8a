"""Differentiable augmentation (DiffAugment, Zhao et al. 2020, arXiv:2006.10738).

The same random transforms are applied to every image D sees, real and fake, in D's
update and in G's, so G's gradient flows back through them; D never sees an
unaugmented image, and G is not pushed to reproduce the augmentations. The policy is a
comma-separated list of `color`, `translation`, `cutout` (config.diffaugment; "" is off).

Every transform draws its parameters per image from the given key and is
differentiable with respect to the images. Images are NHWC in [-1, 1]; as in the
paper, outputs are not clipped:

  color        brightness: x + b, b ~ U[-0.5, 0.5) per image (the per-image mean
               moves by b); saturation: m + s (x - m), m the pixel's mean over
               channels, s ~ U[0, 2) (the channel mean of each pixel is kept; grey
               images are unchanged); contrast: m + c (x - m), m the image's mean, c ~
               U[0.5, 1.5) (the image mean is kept). Outputs may leave [-1, 1].
  translation  shifts by up to 1/8 of the side (rounded) in each direction, integer
               pixels, uniform; pixels shifted in are 0 (grey in [-1, 1]). Values stay
               those of the input, or 0.
  cutout       zeroes a square of half the side (rounded), its centre uniform over the
               image (it may be cut by the border). Values stay those of the input, or 0.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp

from jaxgan.runtime.errors import UserError

Augment = Callable[[jax.Array, jax.Array], jax.Array]

TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def _per_image(key: jax.Array, x: jax.Array, low: float, high: float) -> jax.Array:
    return jax.random.uniform(key, (x.shape[0], 1, 1, 1), x.dtype, low, high)


def brightness(x: jax.Array, key: jax.Array) -> jax.Array:
    return x + _per_image(key, x, -0.5, 0.5)


def saturation(x: jax.Array, key: jax.Array) -> jax.Array:
    mean = jnp.mean(x, axis=3, keepdims=True)
    return mean + (x - mean) * _per_image(key, x, 0.0, 2.0)


def contrast(x: jax.Array, key: jax.Array) -> jax.Array:
    mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
    return mean + (x - mean) * _per_image(key, x, 0.5, 1.5)


def _rounded(side: int, ratio: float) -> int:
    return int(side * ratio + 0.5)


def translation(x: jax.Array, key: jax.Array) -> jax.Array:
    """out[n, i, j] = x[n, i - dy, j - dx], or 0 where that is outside the image."""
    n, height, width, _ = x.shape
    y_key, x_key = jax.random.split(key)
    max_dy, max_dx = _rounded(height, TRANSLATION_RATIO), _rounded(width, TRANSLATION_RATIO)
    dy = jax.random.randint(y_key, (n, 1), -max_dy, max_dy + 1)
    dx = jax.random.randint(x_key, (n, 1), -max_dx, max_dx + 1)
    rows = jnp.arange(height)[None, :] - dy  # (N, H): the source row of each output row
    cols = jnp.arange(width)[None, :] - dx
    inside = ((rows >= 0) & (rows < height))[:, :, None] & ((cols >= 0) & (cols < width))[:, None]
    # Gather rows, then columns, at clipped indices; the mask zeroes what came from outside.
    shifted = jnp.take_along_axis(x, jnp.clip(rows, 0, height - 1)[:, :, None, None], axis=1)
    shifted = jnp.take_along_axis(shifted, jnp.clip(cols, 0, width - 1)[:, None, :, None], axis=2)
    return jnp.where(inside[..., None], shifted, jnp.zeros((), x.dtype))


def cutout(x: jax.Array, key: jax.Array) -> jax.Array:
    """Zeroes rows [cy - size//2, cy - size//2 + size) and the same columns around cx;
    (cy, cx) is uniform, and at least half the square's side lies inside the image."""
    n, height, width, _ = x.shape
    size_y, size_x = _rounded(height, CUTOUT_RATIO), _rounded(width, CUTOUT_RATIO)
    y_key, x_key = jax.random.split(key)
    # An odd square is centred on row cy in [0, side); an even one on the line above
    # row cy, so cy runs up to `side` for the last line to be a centre too.
    cy = jax.random.randint(y_key, (n, 1), 0, height + 1 - size_y % 2)
    cx = jax.random.randint(x_key, (n, 1), 0, width + 1 - size_x % 2)
    top, left = cy - size_y // 2, cx - size_x // 2
    rows, cols = jnp.arange(height)[None], jnp.arange(width)[None]
    in_rows = (rows >= top) & (rows < top + size_y)
    in_cols = (cols >= left) & (cols < left + size_x)
    keep = ~(in_rows[:, :, None] & in_cols[:, None, :])
    return x * keep[..., None].astype(x.dtype)


POLICIES: dict[str, tuple[Callable[[jax.Array, jax.Array], jax.Array], ...]] = {
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "cutout": (cutout,),
}


def parse(policy: str) -> list[str]:
    """The policy's names in order; "" is none. Unknown names are a UserError."""
    names = [name.strip() for name in policy.split(",") if name.strip()]
    unknown = [name for name in names if name not in POLICIES]
    if unknown:
        raise UserError(
            f"config.diffaugment: unknown {unknown}; use a comma-separated list of "
            f"{list(POLICIES)}, or '' for none"
        )
    return names


def make(policy: str) -> Augment:
    """`augment(images, key) -> images`: the policy's transforms in order, each with its
    own key drawn from `key`. The empty policy is the identity (no computation)."""
    transforms = [t for name in parse(policy) for t in POLICIES[name]]

    def augment(images: jax.Array, key: jax.Array) -> jax.Array:
        for index, transform in enumerate(transforms):
            images = transform(images, jax.random.fold_in(key, index))
        return images

    return augment
