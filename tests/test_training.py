"""The training loop end to end: resume, workdir checks, divergence."""

import json

import chex
import jax
import numpy as np
import pytest

from jaxgan.data import pipeline as input_pipeline
from jaxgan.runtime import summary
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import restore
from jaxgan.training import checkpoints
from jaxgan.training import loop as train
from jaxgan.training.state import create_train_state
from tests.conftest import tiny


def final_state(workdir, config):
    mngr = checkpoints.manager(workdir, config)
    try:
        state, progress = checkpoints.restore(mngr, create_train_state(config))
    finally:
        mngr.close()
    return jax.device_get(state), progress


@pytest.mark.parametrize(
    "extra",
    [{}, {"g_ema_decay": 0.5, "ema_collections": True, "g_spectral_norm": True}],
    ids=["plain", "ema_collections"],
)
def test_resumed_run_is_bit_identical_to_an_uninterrupted_one(tmp_path, extra):
    config = tiny(
        num_train_steps=6, checkpoint_every_steps=3, log_every_steps=3, d_steps=2, **extra
    )
    train.train_and_evaluate(config, tmp_path / "straight")

    interrupted = tmp_path / "interrupted"
    train.train_and_evaluate(tiny(**{**config.to_dict(), "num_train_steps": 3}), interrupted)
    assert checkpoints.existing_steps(interrupted) == [3]
    train.train_and_evaluate(config, interrupted)

    straight, straight_progress = final_state(tmp_path / "straight", config)
    resumed, resumed_progress = final_state(interrupted, config)
    assert int(straight.step) == int(resumed.step) == 6
    assert straight_progress["batches_consumed"] == resumed_progress["batches_consumed"] == 12
    same = jax.tree.map(np.array_equal, straight, resumed)
    assert all(jax.tree.leaves(same)), "resumed parameters differ from the uninterrupted run"
    # The averaged BatchNorm / spectral-norm state is checkpointed and restored with it.
    assert ("g__collections" in resumed.ema) == bool(extra)
    # ... and what jaxgan.sample and evaluate restore from disk samples with it.
    restored = restore.restore(interrupted)
    expected = resumed.ema["g__collections"] if extra else resumed.nets["g"].collections
    chex.assert_trees_all_equal(jax.device_get(restored.net.collections), expected)


def test_a_workdir_of_another_config_is_refused_and_left_untouched(tmp_path):
    config = tiny(num_train_steps=2)
    train.train_and_evaluate(config, tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    stamp = (tmp_path / "config.json").read_text()
    with pytest.raises(UserError, match="another config.*g_width: workdir has 8, requested 16"):
        train.train_and_evaluate(tiny(num_train_steps=4, g_width=16), tmp_path)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert (tmp_path / "config.json").read_text() == stamp


def test_checkpoints_without_config_json_are_refused(tmp_path):
    config = tiny(num_train_steps=2)
    train.train_and_evaluate(config, tmp_path)
    (tmp_path / "config.json").unlink()
    with pytest.raises(UserError, match="no config.json"):
        train.train_and_evaluate(config, tmp_path)
    assert checkpoints.existing_steps(tmp_path) == [2]


def test_divergence_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    honest = input_pipeline.real_batches

    def poisoned(*args, **kwargs):
        for number, batch in enumerate(honest(*args, **kwargs)):
            if number >= 2:  # steps 3 and later see NaN images
                batch["image"] = np.full_like(batch["image"], np.nan)
            yield batch

    monkeypatch.setattr(input_pipeline, "real_batches", poisoned)
    config = tiny(num_train_steps=6, log_every_steps=1, checkpoint_every_steps=2)
    with pytest.raises(train.TrainingDiverged, match="not finite at step 3.*checkpoint is step 2"):
        train.train_and_evaluate(config, tmp_path)
    assert checkpoints.existing_steps(tmp_path) == [2]
    state, _ = final_state(tmp_path, config)
    assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves(state.g.params))


def test_config_json_records_the_run(tmp_path):
    config = tiny(num_train_steps=2)
    train.train_and_evaluate(config, tmp_path)
    record = json.loads((tmp_path / "config.json").read_text())
    assert record["config"] == config.to_dict()
    assert record["jaxgan_version"]
    assert set(record["versions"]) >= {"jax", "flax", "optax", "orbax-checkpoint"}
    # Training longer is a resumable change: config.json follows it.
    train.train_and_evaluate(tiny(num_train_steps=4), tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["config"]["num_train_steps"] == 4
    assert checkpoints.existing_steps(tmp_path) == [2, 4]


@pytest.mark.parametrize(
    "start, total, chunk, log_every, checkpoint_every, expected",
    [
        (0, 10, 4, 5, 10, [4, 1, 4, 1]),  # never across step 5's logging
        (3, 10, 4, 5, 10, [1, 1, 4, 1]),  # resumed at 3: single steps up to 5
        (0, 12, 3, 6, 4, [3, 1, 1, 1, 1, 1, 3, 1]),  # boundaries 4, 6, 8, 12
        (0, 5, 1, 2, 5, [1, 1, 1, 1, 1]),
        (7, 7, 4, 5, 5, []),
    ],
)
def test_dispatch_sizes_end_calls_at_every_logging_and_checkpoint_step(
    start, total, chunk, log_every, checkpoint_every, expected
):
    config = tiny(
        num_train_steps=total,
        steps_per_dispatch=chunk,
        log_every_steps=log_every,
        checkpoint_every_steps=checkpoint_every,
    )
    assert list(train.dispatch_sizes(start, config)) == expected


def test_several_steps_per_call_train_like_one_step_per_call(tmp_path):
    config = tiny(num_train_steps=5, checkpoint_every_steps=4, log_every_steps=4)
    train.train_and_evaluate(config, tmp_path / "one")
    train.train_and_evaluate(
        tiny(**{**config.to_dict(), "steps_per_dispatch": 2}), tmp_path / "two"
    )
    assert checkpoints.existing_steps(tmp_path / "two") == checkpoints.existing_steps(
        tmp_path / "one"
    )
    one, one_progress = final_state(tmp_path / "one", config)
    two, two_progress = final_state(tmp_path / "two", config)
    assert int(one.step) == int(two.step) == 5
    assert one_progress["batches_consumed"] == two_progress["batches_consumed"] == 5
    # Not bitwise: the scanned step compiles differently (see test_train_step).
    close = jax.tree.map(lambda a, b: np.allclose(a, b, rtol=1e-4, atol=1e-6), one, two)
    assert all(jax.tree.leaves(close))


def test_the_console_line_shows_a_critics_scores_not_their_sigmoid(capsys, tmp_path):
    speed = {"steps_per_s": 2.0, "images_per_s": 128.0, "eta_s": 3725.0}
    metrics = {"d_loss": -4.5, "g_loss": 19.0, "d_real": 0.0, "d_fake": 0.0}
    scores = {"d_real_logit": -14.25, "d_fake_logit": -18.75}
    line = summary.train_line(300, 1000, {**metrics, **scores}, speed, critic=True)
    assert line == (
        "step 300/1000 (30.0%) | d_loss -4.5000 g_loss 19.0000 critic_real -14.2500 "
        "critic_fake -18.7500 | 2.00 steps/s 128 img/s | ETA 1h02m05s"
    )
    # A classifier D keeps its probabilities.
    line = summary.train_line(300, 1000, {**metrics, **scores}, speed)
    assert "d_real 0.0000 d_fake 0.0000" in line and "critic" not in line

    # Through a real run: a WGAN-GP's lines carry its critic's scores.
    pixels = np.random.default_rng(0).integers(0, 256, (32, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "data.npz", images=pixels)
    config = tiny(
        loss="wasserstein",
        penalty="wgan_gp",
        d_norm="layer_norm",
        num_train_steps=2,
        dataset=f"npz:{tmp_path / 'data.npz'}",
    )
    train.train_and_evaluate(config, str(tmp_path / "wgan_gp"))
    err = capsys.readouterr().err
    assert "step 2/2" in err and "critic_real" in err and "d_real" not in err
