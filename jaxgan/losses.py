"""GAN losses as pure functions of the discriminator's logits.

Each loss is one function `loss(real_logits, fake_logits) -> (d_loss, g_loss)`,
selected by name with `config.loss`. Adding a loss is adding a function here. The
generator's part must depend on `fake_logits` alone or treat `real_logits` as a
constant: the train step passes the real logits of the last discriminator update.
"""

import inspect

import jax
import jax.numpy as jnp

from jaxgan.errors import UserError


def minimax(real_logits: jax.Array, fake_logits: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The original minimax game (Goodfellow et al. 2014, eq. 1).

    D minimises -log D(x) - log(1 - D(G(z))); G minimises log(1 - D(G(z))), which
    saturates when D rejects the fakes confidently. log(1 - sigmoid(l)) = -softplus(l)
    and -log sigmoid(l) = softplus(-l) keep both stable for any logit.
    """
    d_loss = jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))
    g_loss = -jnp.mean(jax.nn.softplus(fake_logits))
    return d_loss, g_loss


def non_saturating(real_logits: jax.Array, fake_logits: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The non-saturating loss (Goodfellow et al. 2014, sec. 3): G maximises log D(G(z)).

    The discriminator's part is minimax's binary cross-entropy.
    """
    d_loss = jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))
    g_loss = jnp.mean(jax.nn.softplus(-fake_logits))
    return d_loss, g_loss


def available() -> list[str]:
    """Every loss: the public functions of this module (all but these two helpers)."""
    return sorted(
        name
        for name, value in globals().items()
        if inspect.isfunction(value)
        and value.__module__ == __name__
        and not name.startswith("_")
        and name not in ("available", "get")
    )


def get(name: str):
    if name not in available():
        raise UserError(f"unknown loss {name!r}: config.loss must be one of {available()}")
    return globals()[name]
