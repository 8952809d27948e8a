"""Learning-rate schedules (config.lr_schedule, lr_warmup_steps): closed forms, the
optimiser's updates scaled by them, D's count in steps, and an exact resume."""

import shutil

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan.runtime.errors import UserError
from jaxgan.training import checkpoints, schedules
from jaxgan.training import loop as train
from jaxgan.training.state import optimizers
from tests.conftest import tiny
from tests.test_training import final_state


def test_the_schedules_closed_forms():
    assert schedules.in_steps(tiny(), 2e-4) == 2e-4  # a float: the optimiser is unchanged
    linear = schedules.in_steps(tiny(lr_schedule="linear", num_train_steps=100), 2e-4)
    np.testing.assert_allclose(
        [linear(s) for s in (0, 25, 50, 99, 100, 150)],
        [2e-4, 1.5e-4, 1e-4, 2e-6, 0, 0],
        rtol=1e-6,
        atol=1e-12,
    )
    warm = schedules.in_steps(tiny(lr_warmup_steps=10, num_train_steps=100), 1.0)
    np.testing.assert_allclose([warm(s) for s in (0, 5, 10, 60)], [0, 0.5, 1, 1], rtol=1e-6)
    both = tiny(lr_schedule="linear", lr_warmup_steps=20, num_train_steps=100)
    warm_linear = schedules.in_steps(both, 1.0)
    np.testing.assert_allclose(
        [warm_linear(s) for s in (0, 10, 20, 60, 100)], [0, 0.5, 1, 0.5, 0], rtol=1e-6, atol=1e-7
    )


def test_adams_updates_scale_by_the_schedule_and_ds_count_is_in_steps():
    config = tiny(lr_schedule="linear", num_train_steps=10, d_steps=2)
    constant = tiny(num_train_steps=10, d_steps=2)
    params = {"w": jnp.array([0.3, -1.2, 2.0])}
    gradient = {"w": jnp.array([0.5, 0.25, -1.0])}
    (g_tx, d_tx), (g_plain, d_plain) = optimizers(config), optimizers(constant)
    # G's count is its step; D's count grows d_steps=2 per step: count 7 is step 3.
    for count, g_factor, d_factor in [(0, 1.0, 1.0), (3, 0.7, 0.9), (7, 0.3, 0.7)]:
        for tx, plain_tx, factor in [(g_tx, g_plain, g_factor), (d_tx, d_plain, d_factor)]:
            # The same (zero) moments; only the update count differs from a fresh state.
            state = optax.tree_utils.tree_set(tx.init(params), count=jnp.asarray(count))
            plain_state = optax.tree_utils.tree_set(plain_tx.init(params), count=jnp.asarray(count))
            scheduled, _ = tx.update(gradient, state, params)
            plain, _ = plain_tx.update(gradient, plain_state, params)
            np.testing.assert_allclose(scheduled["w"], factor * plain["w"], rtol=1e-6)


def test_a_scheduled_run_resumes_exactly(tmp_path):
    config = tiny(
        num_train_steps=6,
        checkpoint_every_steps=3,
        log_every_steps=3,
        d_steps=2,
        lr_schedule="linear",
        lr_warmup_steps=2,
    )
    train.train_and_evaluate(config, tmp_path / "straight")
    train.train_and_evaluate(config, tmp_path / "resumed")
    # Lose the last checkpoint: the run resumes from step 3 and trains 4 to 6 again.
    shutil.rmtree(checkpoints.directory(tmp_path / "resumed") / "6")
    train.train_and_evaluate(config, tmp_path / "resumed")
    straight, _ = final_state(tmp_path / "straight", config)
    resumed, _ = final_state(tmp_path / "resumed", config)
    assert int(resumed.step) == 6
    assert all(jax.tree.leaves(jax.tree.map(np.array_equal, straight, resumed)))


@pytest.mark.parametrize(
    "overrides,expected",
    [
        ({"lr_schedule": "cosine"}, "config.lr_schedule must be one of"),
        ({"lr_warmup_steps": -1}, "config.lr_warmup_steps must be an integer >= 0"),
        ({"lr_warmup_steps": 4, "num_train_steps": 4}, "leaves no step at the full rate"),
    ],
)
def test_bad_schedules_are_refused(overrides, expected):
    from jaxgan.config import validation

    with pytest.raises(UserError, match=expected):
        validation.validate(tiny(**overrides))


def test_a_linear_run_cannot_change_its_length_on_resume(tmp_path):
    config = tiny(num_train_steps=2, lr_schedule="linear")
    train.train_and_evaluate(config, tmp_path)
    with pytest.raises(UserError, match="num_train_steps: workdir has 2, requested 4"):
        train.train_and_evaluate(tiny(num_train_steps=4, lr_schedule="linear"), tmp_path)
    train.train_and_evaluate(tiny(num_train_steps=4), tmp_path / "constant")
    train.train_and_evaluate(tiny(num_train_steps=6), tmp_path / "constant")  # may grow
