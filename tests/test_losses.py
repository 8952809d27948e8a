import math

import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.objectives import losses
from jaxgan.runtime.errors import UserError

REAL = jnp.array([2.0, -1.0])
FAKE = jnp.array([0.5, -3.0])


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def test_non_saturating_matches_hand_computed_bce():
    d_loss, g_loss = losses.non_saturating(REAL, FAKE)
    expected_d = -np.mean([math.log(sigmoid(2.0)), math.log(sigmoid(-1.0))]) - np.mean(
        [math.log(1 - sigmoid(0.5)), math.log(1 - sigmoid(-3.0))]
    )
    expected_g = -np.mean([math.log(sigmoid(0.5)), math.log(sigmoid(-3.0))])
    np.testing.assert_allclose(d_loss, expected_d, rtol=1e-6)
    np.testing.assert_allclose(g_loss, expected_g, rtol=1e-6)
    # At logit 0 (D undecided): log 2 per term.
    d0, g0 = losses.non_saturating(jnp.zeros(3), jnp.zeros(3))
    np.testing.assert_allclose([d0, g0], [2 * math.log(2), math.log(2)], rtol=1e-6)


def test_minimax_generator_loss_is_log_one_minus_d():
    d_loss, g_loss = losses.minimax(REAL, FAKE)
    expected_g = np.mean([math.log(1 - sigmoid(0.5)), math.log(1 - sigmoid(-3.0))])
    np.testing.assert_allclose(g_loss, expected_g, rtol=1e-6)
    np.testing.assert_allclose(d_loss, losses.non_saturating(REAL, FAKE)[0], rtol=1e-6)


@pytest.mark.parametrize("name", ["minimax", "non_saturating"])
def test_losses_are_finite_for_extreme_logits(name):
    big = jnp.array([1e4, -1e4])
    d_loss, g_loss = losses.get(name)(big, -big)
    assert np.isfinite(d_loss) and np.isfinite(g_loss)
    np.testing.assert_allclose(d_loss, 1e4, rtol=1e-6)  # one confident mistake each side


def test_available_lists_the_public_losses_and_get_refuses_others():
    assert losses.available() == [
        "hinge",
        "least_squares",
        "least_squares_sigmoid",
        "minimax",
        "non_saturating",
        "wasserstein",
    ]
    with pytest.raises(UserError, match="unknown loss 'wgan'"):
        losses.get("wgan")
    with pytest.raises(UserError):
        losses.get("get")
