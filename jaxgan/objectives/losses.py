"""GAN losses as pure functions of the discriminator's outputs ("logits").

Each loss is one function `loss(real_logits, fake_logits) -> (d_loss, g_loss)`,
selected by name with `config.loss`. Adding a loss is adding a function here. The
generator's part must depend on `fake_logits` alone or treat `real_logits` as a
constant: the train step passes the real logits of the last discriminator update.
A loss that takes a `real_label` keyword supports label smoothing (config.real_label).
"""

import functools
import inspect

import jax
import jax.numpy as jnp

from jaxgan.runtime.errors import UserError


def _binary_cross_entropy(real_logits, fake_logits, real_label):
    # -t log sigmoid(l) - (1 - t) log(1 - sigmoid(l)), with -log sigmoid(l) =
    # softplus(-l) and -log(1 - sigmoid(l)) = softplus(l): stable for any logit.
    real = real_label * jax.nn.softplus(-real_logits) + (1 - real_label) * jax.nn.softplus(
        real_logits
    )
    return jnp.mean(real) + jnp.mean(jax.nn.softplus(fake_logits))


def minimax(
    real_logits: jax.Array, fake_logits: jax.Array, real_label: float = 1.0
) -> tuple[jax.Array, jax.Array]:
    """The original minimax game (Goodfellow et al. 2014, eq. 1).

    D minimises -log D(x) - log(1 - D(G(z))); G minimises log(1 - D(G(z))) =
    -softplus(logit), which saturates when D rejects the fakes confidently.
    """
    d_loss = _binary_cross_entropy(real_logits, fake_logits, real_label)
    g_loss = -jnp.mean(jax.nn.softplus(fake_logits))
    return d_loss, g_loss


def non_saturating(
    real_logits: jax.Array, fake_logits: jax.Array, real_label: float = 1.0
) -> tuple[jax.Array, jax.Array]:
    """The non-saturating loss (Goodfellow et al. 2014, sec. 3): G maximises log D(G(z)).

    The discriminator's part is minimax's binary cross-entropy.
    """
    d_loss = _binary_cross_entropy(real_logits, fake_logits, real_label)
    g_loss = jnp.mean(jax.nn.softplus(-fake_logits))
    return d_loss, g_loss


def wasserstein(real_logits: jax.Array, fake_logits: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The Wasserstein GAN critic loss (Arjovsky et al. 2017, eq. 3).

    D (the critic) maximises E[D(x)] - E[D(G(z))]; it needs a Lipschitz constraint:
    weight clipping (config.d_weight_clip) or a gradient penalty (config.penalty).
    """
    d_loss = jnp.mean(fake_logits) - jnp.mean(real_logits)
    g_loss = -jnp.mean(fake_logits)
    return d_loss, g_loss


def hinge(real_logits: jax.Array, fake_logits: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The hinge loss (Lim & Ye 2017; Miyato et al. 2018, eq. 16)."""
    d_loss = jnp.mean(jax.nn.relu(1 - real_logits)) + jnp.mean(jax.nn.relu(1 + fake_logits))
    g_loss = -jnp.mean(fake_logits)
    return d_loss, g_loss


def least_squares(
    real_logits: jax.Array, fake_logits: jax.Array, real_label: float = 1.0
) -> tuple[jax.Array, jax.Array]:
    """Least-squares GAN (Mao et al. 2017, eq. 9 with a=0, b=c=1).

    D: 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]; G: 1/2 E[(D(G(z)) - c)^2].
    """
    d_loss = 0.5 * jnp.mean((real_logits - real_label) ** 2) + 0.5 * jnp.mean(fake_logits**2)
    g_loss = 0.5 * jnp.mean((fake_logits - 1.0) ** 2)
    return d_loss, g_loss


def least_squares_sigmoid(
    real_logits: jax.Array, fake_logits: jax.Array, real_label: float = 1.0
) -> tuple[jax.Array, jax.Array]:
    """Least squares on D's probabilities sigmoid(logit) instead of its raw outputs, as
    the LSGAN of Lucic et al. 2018's code (compare_gan v1, src/gans/LSGAN.py):
    D: 1/2 E[(sigmoid(D(x)) - 1)^2] + 1/2 E[sigmoid(D(G(z)))^2]; G: 1/2 E[(sigmoid(D(G(z)))
    - 1)^2]."""
    return least_squares(jax.nn.sigmoid(real_logits), jax.nn.sigmoid(fake_logits), real_label)


# Zero-sum games: G's loss is minus D's up to a term of the reals alone. With unrolling,
# config.unrolled_objective "saddle" has G minimise minus D's loss at the unrolled D, real
# term included (Metz et al. 2017's saddle objective f), since the unrolled D depends on G.
ZERO_SUM = ("minimax", "wasserstein")


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


def get(name: str, real_label: float = 1.0):
    """The loss function called `name`, with `real_label` bound where it is not 1."""
    if name not in available():
        raise UserError(f"unknown loss {name!r}: config.loss must be one of {available()}")
    loss = globals()[name]
    if real_label == 1.0:
        return loss
    if "real_label" not in inspect.signature(loss).parameters:
        raise UserError(
            f"config.real_label={real_label} (label smoothing) does not apply to the "
            f"{name} loss: leave it at 1.0"
        )
    return functools.partial(loss, real_label=real_label)
