"""Orthogonal regularisation of G's weights (Brock et al. 2019, BigGAN), as BigGAN's
reference code applies it (BigGAN-PyTorch `utils.ortho`), which the paper's formula is
not: the code adds

  strength * 2 ((W W^T) * (1 - I)) W

to each weight's gradient, W being the weight as a matrix of one row per output unit
(a convolution's (out, in*kh*kw)). That is the gradient of

  (strength / 2) * ||W W^T * (1 - I)||_F^2,

half of the paper's R_beta = beta ||W^T W * (1 - I)||_F^2 (whose W has the units as
columns: the same Gram matrix). jaxgan follows the code, which produced BigGAN's
results: `config.g_orthogonal_reg` is the code's `G_ortho` (1e-4 in the paper's runs).

Every parameter of at least two dimensions is regularised except embedding tables
(Flax's `embedding`: BigGAN's code exempts its shared class embedding); biases and
gains are not. Applied to the gradient before the optimiser, as the code does.
"""

import jax
import jax.numpy as jnp
import optax

EXEMPT_NAMES = ("embedding",)


def code_gradient(kernel: jax.Array) -> jax.Array:
    """BigGAN's `utils.ortho` gradient (before `strength`) for one Flax kernel: its last
    axis is the output units (Dense (in, out), Conv (kh, kw, in, out))."""
    rows = kernel.reshape(-1, kernel.shape[-1]).T  # one row per output unit
    gram = rows @ rows.T * (1.0 - jnp.eye(rows.shape[0], dtype=rows.dtype))
    return (2.0 * gram @ rows).T.reshape(kernel.shape)


def _regularised(path, leaf) -> bool:
    names = [getattr(entry, "key", None) for entry in path]
    return leaf.ndim >= 2 and not any(name in EXEMPT_NAMES for name in names)


def add_orthogonal_gradient(strength: float) -> optax.GradientTransformation:
    """Adds `strength * code_gradient(W)` to the gradient of every regularised W."""

    def update(updates, state, params=None):
        if params is None:
            raise ValueError("orthogonal regularisation needs the parameters")

        def add(path, gradient, weight):
            if not _regularised(path, weight):
                return gradient
            return gradient + strength * code_gradient(weight)

        return jax.tree_util.tree_map_with_path(add, updates, params), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)
