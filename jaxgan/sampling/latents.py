"""Latent vectors for sampling: one per image index, truncated, or along a path.

Latent `i` is drawn from `fold_in(key, i)`, so image i of a seed is the same whatever
the number of images or the batch size. Latents are N(0, I), except for a family whose
prior is uniform on [-1, 1] (BiGAN's, `bigan_latent="uniform"`): the family says which
(`latent_distribution(config)`), and every sampler (training's grids, FID, jaxgan.sample,
load_generator) draws from it.
"""

import functools

import jax
import jax.numpy as jnp


def distribution(config) -> str:
    """ "normal" or "uniform" (on [-1, 1]): the prior the config's family trains G on."""
    from jaxgan import families

    family = families.of(config)
    return getattr(family, "latent_distribution", lambda _: "normal")(config)


def prior(key: jax.Array, num: int, config) -> jax.Array:
    """`num` latents of the config's prior in one draw (training's and FID's stream)."""
    if distribution(config) == "uniform":
        return jax.random.uniform(key, (num, config.latent_dim), minval=-1.0, maxval=1.0)
    return jax.random.normal(key, (num, config.latent_dim))


@functools.partial(jax.jit, static_argnames=("latent_dim", "truncation", "distribution"))
def gaussian(
    key: jax.Array,
    indices: jax.Array,
    latent_dim: int,
    truncation: float | None = None,
    distribution: str = "normal",
) -> jax.Array:
    """z ~ N(0, I) of shape (len(indices), latent_dim), one per index.

    With `truncation` T, every component is drawn from N(0, 1) truncated to [-T, T]: the
    distribution of BigGAN's truncation trick (Brock et al. 2018), which resamples each
    component whose |z| exceeds T. Smaller T trades variety for fidelity.
    `distribution="uniform"` draws U[-1, 1] instead (no truncation).
    """

    def one(index):
        index_key = jax.random.fold_in(key, index)
        if distribution == "uniform":  # a uniform prior has no tails to truncate
            return jax.random.uniform(index_key, (latent_dim,), minval=-1.0, maxval=1.0)
        if truncation is None:
            return jax.random.normal(index_key, (latent_dim,))
        return jax.random.truncated_normal(index_key, -truncation, truncation, (latent_dim,))

    return jax.vmap(one)(indices)


@jax.jit
def slerp(z0: jax.Array, z1: jax.Array, t: jax.Array) -> jax.Array:
    """Spherical interpolation from z0 (t=0) to z1 (t=1), one row per t.

    For Gaussian latents in many dimensions nearly all the mass lies near the sphere of
    radius sqrt(latent_dim); a straight line between two draws cuts inside it (its
    midpoint has about 1/sqrt(2) of their norm), where G never saw latents in training.
    The great-circle path keeps the norm (White 2016, "Sampling Generative Networks").
    """
    t = t[:, None]
    cosine = jnp.dot(z0, z1) / (jnp.linalg.norm(z0) * jnp.linalg.norm(z1))
    omega = jnp.arccos(jnp.clip(cosine, -1.0, 1.0))
    sin_omega = jnp.sin(omega)
    # Nearly parallel latents: the great circle is a line, and sin(omega) ~ 0.
    parallel = sin_omega < 1e-6
    safe = jnp.where(parallel, 1.0, sin_omega)
    w0 = jnp.where(parallel, 1.0 - t, jnp.sin((1.0 - t) * omega) / safe)
    w1 = jnp.where(parallel, t, jnp.sin(t * omega) / safe)
    return w0 * z0 + w1 * z1


@functools.partial(jax.jit, static_argnames=("num", "latent_dim", "truncation", "distribution"))
def interpolation(
    key: jax.Array,
    num: int,
    latent_dim: int,
    truncation: float | None = None,
    distribution: str = "normal",
) -> jax.Array:
    """`num` latents evenly spaced (in angle) on the slerp path between latents 0 and 1
    of `key`, endpoints included; for a uniform prior, the straight line (which stays
    inside its cube)."""
    z0, z1 = gaussian(key, jnp.arange(2), latent_dim, truncation, distribution)
    t = jnp.linspace(0.0, 1.0, num)
    if distribution == "uniform":
        return (1.0 - t)[:, None] * z0 + t[:, None] * z1
    return slerp(z0, z1, t)


def rows(table: jax.Array, indices: jax.Array) -> jax.Array:
    """Rows `indices` of a table of latents; indices past its end (the padding of a last
    batch) repeat its last row."""
    return table[jnp.minimum(indices, table.shape[0] - 1)]
