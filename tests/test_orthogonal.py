"""BigGAN's orthogonal regularisation as its code applies it: the closed form, the
layout of Flax kernels against the code's (out, in*kh*kw), and which weights it touches."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan.objectives import orthogonal
from jaxgan.runtime.errors import UserError
from jaxgan.training.state import optimizers
from tests.conftest import tiny


def test_the_code_gradient_is_that_of_half_the_off_diagonal_gram_norm():
    kernel = jax.random.normal(jax.random.key(0), (3, 3, 4, 5))

    def half_penalty(k):
        rows = k.reshape(-1, k.shape[-1]).T
        gram = rows @ rows.T
        return 0.5 * jnp.sum((gram * (1 - jnp.eye(5))) ** 2)

    np.testing.assert_allclose(
        orthogonal.code_gradient(kernel), jax.grad(half_penalty)(kernel), rtol=1e-5, atol=1e-5
    )


def test_the_code_gradient_matches_biggans_code_in_its_own_layout():
    """BigGAN-PyTorch: w = param.view(out, -1); grad = 2 (w w^T * (1 - I)) w. A torch
    conv weight is (out, in, kh, kw); Flax's kernel is (kh, kw, in, out)."""
    rng = np.random.default_rng(1)
    torch_weight = rng.normal(size=(5, 4, 3, 3))
    w = torch_weight.reshape(5, -1)
    expected = (2 * ((w @ w.T) * (1 - np.eye(5))) @ w).reshape(torch_weight.shape)
    flax_kernel = torch_weight.transpose(2, 3, 1, 0)
    got = orthogonal.code_gradient(jnp.asarray(flax_kernel, jnp.float32))
    np.testing.assert_allclose(
        np.asarray(got).transpose(3, 2, 0, 1), expected, rtol=1e-4, atol=1e-4
    )
    # An orthonormal set of units has nothing to correct.
    q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    np.testing.assert_allclose(orthogonal.code_gradient(jnp.asarray(q[:, :4])), 0, atol=1e-6)


def test_the_transform_adds_it_to_matrices_only_and_not_to_embeddings():
    params = {
        "Dense_0": {"kernel": jnp.ones((3, 2)), "bias": jnp.ones((2,))},
        "Embed_0": {"embedding": jnp.ones((10, 4))},
    }
    gradients = jax.tree.map(jnp.zeros_like, params)
    out, _ = orthogonal.add_orthogonal_gradient(1e-4).update(gradients, optax.EmptyState(), params)
    # Two units of ones in 3 inputs: gram off-diagonal 3, so 2 * 3 * ones * 1e-4.
    np.testing.assert_allclose(out["Dense_0"]["kernel"], np.full((3, 2), 6e-4), rtol=1e-6)
    np.testing.assert_array_equal(out["Dense_0"]["bias"], 0)
    np.testing.assert_array_equal(out["Embed_0"]["embedding"], 0)


def test_gs_optimiser_is_unchanged_without_it_and_refuses_a_negative_strength():
    plain, _ = optimizers(tiny())
    regularised, _ = optimizers(tiny(g_orthogonal_reg=1e-4))
    params = {"w": jax.random.normal(jax.random.key(2), (4, 3))}
    gradient = {"w": jnp.zeros((4, 3))}
    still, _ = plain.update(gradient, plain.init(params), params)
    moved, _ = regularised.update(gradient, regularised.init(params), params)
    np.testing.assert_array_equal(still["w"], 0)  # Adam of a zero gradient
    assert float(jnp.abs(moved["w"]).max()) > 0  # the regularisation's gradient alone
    from jaxgan.config import validation

    with pytest.raises(UserError, match="g_orthogonal_reg must be >= 0"):
        validation.validate(tiny(g_orthogonal_reg=-1.0))
