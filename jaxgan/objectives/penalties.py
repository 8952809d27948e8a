"""Gradient penalties on the discriminator, selected by `config.penalty`.

Each penalty is a function `penalty(d, real, fake, key) -> scalar`, where `d` maps a
batch of images to D's outputs with the current parameters (its mutable collections
are not updated by the penalty's passes). The train step adds
`config.penalty_weight * penalty` to D's loss and differentiates through it (a
gradient of a gradient). They need a per-sample D: BatchNorm in D makes each output
depend on the whole batch, and the trainer warns about that combination.
"""

import inspect
from collections.abc import Callable

import jax
import jax.numpy as jnp

from jaxgan.runtime.errors import UserError

Discriminator = Callable[[jax.Array], jax.Array]


def _input_gradients(d: Discriminator, x: jax.Array) -> jax.Array:
    """dD(x_i)/dx_i for every sample, flattened: (N, H*W*C)."""
    gradients = jax.grad(lambda images: jnp.sum(d(images)))(x)
    return gradients.reshape(x.shape[0], -1)


def _uniform_per_sample(key: jax.Array, x: jax.Array) -> jax.Array:
    return jax.random.uniform(key, (x.shape[0],) + (1,) * (x.ndim - 1), x.dtype)


def _one_centered(d: Discriminator, x: jax.Array) -> jax.Array:
    norms = jnp.sqrt(jnp.sum(_input_gradients(d, x) ** 2, axis=1) + 1e-12)
    return jnp.mean((norms - 1.0) ** 2)


def wgan_gp(d: Discriminator, real: jax.Array, fake: jax.Array, key: jax.Array) -> jax.Array:
    """E[(||grad D(x_hat)||_2 - 1)^2] at x_hat = e x + (1 - e) G(z), e ~ U[0, 1] per
    sample (Gulrajani et al. 2017, Algorithm 1)."""
    epsilon = _uniform_per_sample(key, real)
    return _one_centered(d, epsilon * real + (1 - epsilon) * fake)


def r1(d: Discriminator, real: jax.Array, fake: jax.Array, key: jax.Array) -> jax.Array:
    """1/2 E[||grad D(x)||^2] on real data (Mescheder et al. 2018, eq. 9; the weight is
    their gamma)."""
    del fake, key
    return 0.5 * jnp.mean(jnp.sum(_input_gradients(d, real) ** 2, axis=1))


def dragan(d: Discriminator, real: jax.Array, fake: jax.Array, key: jax.Array) -> jax.Array:
    """E[(||grad D(x_hat)||_2 - 1)^2] around the data (Kodali et al. 2017): x_hat
    between x and a perturbation x + 0.5 std(x) u, u ~ U[0, 1], as their code does."""
    del fake
    noise_key, mix_key = jax.random.split(key)
    perturbed = real + 0.5 * jnp.std(real) * jax.random.uniform(noise_key, real.shape)
    alpha = _uniform_per_sample(mix_key, real)
    return _one_centered(d, alpha * real + (1 - alpha) * perturbed)


def dragan_sigmoid(d: Discriminator, real: jax.Array, fake: jax.Array, key: jax.Array) -> jax.Array:
    """DRAGAN's penalty on D's probability sigmoid(D(x)) instead of its logit, as Lucic et
    al. 2018's code takes it (compare_gan v1, src/gans/DRAGAN.py)."""
    return dragan(lambda x: jax.nn.sigmoid(d(x)), real, fake, key)


def in_range(
    penalty: Callable,
    image_range: tuple[float, float],
    d: Discriminator,
    real: jax.Array,
    fake: jax.Array,
    key: jax.Array,
) -> jax.Array:
    """`penalty` of D as a function of images in `image_range` (the model's own, e.g.
    Lucic et al.'s [0, 1]) instead of jaxgan's [-1, 1]: its points mapped there and its
    gradient norms taken there. The identity for (-1, 1)."""
    low, high = image_range
    if (low, high) == (-1.0, 1.0):
        return penalty(d, real, fake, key)
    width = high - low

    def d_of_model_images(u):
        return d((u - low) * 2.0 / width - 1.0)

    def to_model(x):
        return low + (x + 1.0) * width / 2.0

    return penalty(d_of_model_images, to_model(real), to_model(fake), key)


def available() -> list[str]:
    """`none` and every public function of this module but these helpers."""
    names = [
        name
        for name, value in globals().items()
        if inspect.isfunction(value)
        and value.__module__ == __name__
        and not name.startswith("_")
        and name not in ("available", "get", "in_range")
    ]
    return ["none", *sorted(names)]


def get(name: str):
    """The penalty called `name`, or None for `none`."""
    if name not in available():
        raise UserError(f"unknown penalty {name!r}: config.penalty must be one of {available()}")
    return None if name == "none" else globals()[name]
