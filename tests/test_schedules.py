"""Learning-rate schedules (config.lr_schedule, lr_warmup_steps, and each net's own):
closed forms, the optimiser's updates scaled by them, D's count in steps, and an exact
resume."""

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
    assert schedules.in_steps(tiny(), 2e-4, net="g") == 2e-4  # a float: the optimiser is unchanged
    linear = schedules.in_steps(tiny(lr_schedule="linear", num_train_steps=100), 2e-4, net="d")
    np.testing.assert_allclose(
        [linear(s) for s in (0, 25, 50, 99, 100, 150)],
        [2e-4, 1.5e-4, 1e-4, 2e-6, 0, 0],
        rtol=1e-6,
        atol=1e-12,
    )
    warm = schedules.in_steps(tiny(lr_warmup_steps=10, num_train_steps=100), 1.0, net="g")
    np.testing.assert_allclose([warm(s) for s in (0, 5, 10, 60)], [0, 0.5, 1, 1], rtol=1e-6)
    both = tiny(lr_schedule="linear", lr_warmup_steps=20, num_train_steps=100)
    warm_linear = schedules.in_steps(both, 1.0, net="g")
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


@pytest.mark.parametrize(
    "schedule",
    [
        {"lr_schedule": "linear", "lr_warmup_steps": 2},
        {"g_lr_schedule": "linear", "d_lr_warmup_steps": 2},
    ],
)
def test_a_scheduled_run_resumes_exactly(tmp_path, schedule):
    config = tiny(num_train_steps=6, checkpoint_every_steps=3, log_every_steps=3, d_steps=2)
    config.update(schedule)
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
        ({"lr_schedule": "cosine"}, "config.lr_schedule must be 'constant' or 'linear', got"),
        ({"lr_warmup_steps": -1}, "config.lr_warmup_steps must be an integer >= 0"),
        ({"lr_warmup_steps": 4, "num_train_steps": 4}, "leaves no step at the full rate"),
        (
            {"g_lr_schedule": "cosine"},
            r"config.g_lr_schedule must be '', 'constant' or 'linear' \('' follows lr_schedule\)",
        ),
        ({"d_lr_warmup_steps": -2}, r"config.d_lr_warmup_steps must be an integer >= -1"),
        ({"d_lr_warmup_steps": 4, "num_train_steps": 4}, "config.d_lr_warmup_steps=4 leaves no"),
        # The shared warm-up is refused where a net follows it, named as the field it is.
        (
            {"lr_warmup_steps": 4, "g_lr_warmup_steps": 0, "num_train_steps": 4},
            "config.lr_warmup_steps=4 leaves no",
        ),
    ],
)
def test_bad_schedules_are_refused(overrides, expected):
    from jaxgan.config import validation

    with pytest.raises(UserError, match=expected):
        validation.validate(tiny(**overrides))


def test_each_net_can_have_its_own_schedule():
    # G decays linearly and D keeps its rate; then D warms up over 4 steps and G does not.
    # Counts as in the test above: G's is its step, D's grows d_steps=2 per step.
    params = {"w": jnp.array([0.3, -1.2, 2.0])}
    gradient = {"w": jnp.array([0.5, 0.25, -1.0])}
    plain = optimizers(tiny(num_train_steps=10, d_steps=2))
    for overrides, factors in [
        ({"g_lr_schedule": "linear"}, [(0, 1.0, 1.0), (3, 0.7, 1.0), (7, 0.3, 1.0)]),
        ({"d_lr_warmup_steps": 4}, [(0, 1.0, 0.0), (3, 1.0, 0.25), (7, 1.0, 0.75)]),
        # A net's own 0 overrides a shared warm-up: G starts at its full rate.
        (
            {"lr_warmup_steps": 4, "g_lr_warmup_steps": 0},
            [(0, 1.0, 0.0), (3, 1.0, 0.25), (7, 1.0, 0.75)],
        ),
        # A net's own field wins over the shared one: D constant under a shared linear.
        (
            {"lr_schedule": "linear", "d_lr_schedule": "constant"},
            [(0, 1.0, 1.0), (3, 0.7, 1.0), (7, 0.3, 1.0)],
        ),
    ]:
        config = tiny(num_train_steps=10, d_steps=2, **overrides)
        for count, g_factor, d_factor in factors:
            txs = zip(optimizers(config), plain, (g_factor, d_factor), strict=True)
            for tx, plain_tx, factor in txs:
                state = optax.tree_utils.tree_set(tx.init(params), count=jnp.asarray(count))
                plain_state = optax.tree_utils.tree_set(
                    plain_tx.init(params), count=jnp.asarray(count)
                )
                scheduled, _ = tx.update(gradient, state, params)
                expected, _ = plain_tx.update(gradient, plain_state, params)
                np.testing.assert_allclose(
                    scheduled["w"], factor * expected["w"], rtol=1e-6, err_msg=str(overrides)
                )


def test_a_run_where_one_net_decays_cannot_change_its_length_on_resume():
    from jaxgan.training import workdir

    stored = {"num_train_steps": 2, "d_lr_schedule": "linear"}
    assert workdir.config_differences(stored, {**stored, "num_train_steps": 4}) == [
        "num_train_steps: workdir has 2, requested 4"
    ]
    warm = {"num_train_steps": 2, "g_lr_warmup_steps": 1}  # a warm-up does not decay
    assert workdir.config_differences(warm, {**warm, "num_train_steps": 4}) == []


def test_a_linear_run_cannot_change_its_length_on_resume(tmp_path):
    config = tiny(num_train_steps=2, lr_schedule="linear")
    train.train_and_evaluate(config, tmp_path)
    with pytest.raises(UserError, match="num_train_steps: workdir has 2, requested 4"):
        train.train_and_evaluate(tiny(num_train_steps=4, lr_schedule="linear"), tmp_path)
    train.train_and_evaluate(tiny(num_train_steps=4), tmp_path / "constant")
    train.train_and_evaluate(tiny(num_train_steps=6), tmp_path / "constant")  # may grow
