"""Fine-tuning from another run (config.init_from, init_optimizer) and FreezeD
(config.freeze_d_layers): what is copied, what stays frozen, what is refused."""

import jax
import numpy as np
import pytest

from jaxgan.nn import models
from jaxgan.runtime.errors import UserError
from jaxgan.training import checkpoints, finetune
from jaxgan.training import loop as train
from jaxgan.training.state import create_train_state
from jaxgan.training.step import make_train_step
from tests.conftest import tiny
from tests.test_training import final_state


def leaves_equal(a, b):
    return all(jax.tree.leaves(jax.tree.map(np.array_equal, a, b)))


def test_ds_layers_are_found_in_the_order_d_applies_them():
    config = tiny()
    _, discriminator = models.build(config)
    example = np.zeros((1, 28, 28, 1), np.float32)
    order = finetune.call_order(discriminator, example, train=False)
    # The DCGAN D: two strided convolutions, BatchNorm (after the second), the last conv;
    # the params dict would list them alphabetically.
    assert order == ["DownsampleConv_0", "DownsampleConv_1", "BatchNorm_0", "Conv_0"]
    assert finetune.frozen_layers(tiny(freeze_d_layers=2)) == order[:2]
    with pytest.raises(UserError, match="freeze_d_layers=4 would freeze all of D: it has 4"):
        finetune.frozen_layers(tiny(freeze_d_layers=4))


def test_freeze_d_keeps_the_first_layers_and_trains_the_rest():
    config = tiny(freeze_d_layers=2, d_steps=2)
    state = create_train_state(config, jax.random.key(0))
    start = jax.device_get(state)
    step = make_train_step(config)
    images = np.random.default_rng(0).uniform(-1, 1, (2, 16, 28, 28, 1)).astype(np.float32)
    for _ in range(2):
        state, _ = step(state, {"image": images})
    end = jax.device_get(state)
    for name in ("DownsampleConv_0", "DownsampleConv_1"):
        assert leaves_equal(start.d.params[name], end.d.params[name]), name
    for name in ("BatchNorm_0", "Conv_0"):
        assert not leaves_equal(start.d.params[name], end.d.params[name]), name
    assert not leaves_equal(start.g.params, end.g.params)


@pytest.fixture(scope="module")
def source_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("source") / "run"
    train.train_and_evaluate(
        tiny(num_train_steps=4, checkpoint_every_steps=2, g_ema_decay=0.9), workdir
    )
    return workdir


def test_a_new_run_starts_from_the_source_weights(source_run, tmp_path, capsys):
    config = tiny(
        num_train_steps=2, seed=5, g_ema_decay=0.9, init_from=f"{source_run}:2", freeze_d_layers=1
    )
    source, _ = final_state_at(source_run, 2)
    loaded = finetune.load_source(config, _mesh())
    fresh = create_train_state(config, jax.random.key(5))
    started = jax.device_get(finetune.apply_source(fresh, loaded, config))
    for name in ("g", "d"):
        assert leaves_equal(started.nets[name].params, source.nets[name].params)
        assert leaves_equal(started.nets[name].collections, source.nets[name].collections)
        # The optimisers start afresh (init_optimizer=False): Adam's count is 0.
        assert leaves_equal(
            started.nets[name].opt_state, jax.device_get(fresh.nets[name].opt_state)
        )
    assert leaves_equal(started.ema["g"], source.ema["g"])
    assert int(started.step) == 0
    with_optimizer = tiny(**{**config.to_dict(), "init_optimizer": True, "freeze_d_layers": 0})
    copied = finetune.apply_source(
        create_train_state(with_optimizer, jax.random.key(5)),
        finetune.load_source(with_optimizer, _mesh()),
        with_optimizer,
    )
    assert leaves_equal(jax.device_get(copied.g.opt_state), source.g.opt_state)
    # End to end: the run says where it started, and the source run is left as it was.
    before = sorted(p.name for p in (source_run / "checkpoints").iterdir())
    train.train_and_evaluate(config, tmp_path / "tuned")
    assert f"started from {source_run}:2 (step 2)" in capsys.readouterr().err
    assert sorted(p.name for p in (source_run / "checkpoints").iterdir()) == before
    tuned, _ = final_state(tmp_path / "tuned", config)
    assert int(tuned.step) == 2
    frozen = "DownsampleConv_0"  # FreezeD's first layer kept the source's weights
    assert leaves_equal(tuned.d.params[frozen], source.d.params[frozen])


def _mesh():
    from jaxgan.runtime import sharding

    return sharding.data_mesh()


def final_state_at(workdir, step):
    from jaxgan.sampling import restore

    restored = restore.restore(workdir, step)
    return jax.device_get(restored.state), restored.config


@pytest.mark.parametrize(
    "init_from,overrides,expected",
    [
        ("{tmp}/nothing", {}, "is not a jaxgan run .it has no config.json"),
        ("{src}:3", {}, r"has no checkpoint of step 3: it has steps \[2, 4\]"),
        ("{src}", {"g_width": 16}, r"does not fit this config's networks: d.params|g.params"),
        (
            "{src}",
            {"g_ema_decay": 0.0, "init_optimizer": True, "freeze_d_layers": 1},
            "d.opt_state",
        ),
        # The copied update counts would start a schedule partway (here D's warm-up).
        (
            "{src}",
            {"init_optimizer": True, "d_lr_warmup_steps": 1},
            r"init_optimizer continues .* would drive this run's schedule \(d_lr_warmup_steps=1\)",
        ),
    ],
)
def test_a_source_that_does_not_fit_is_refused_before_anything_is_written(
    source_run, tmp_path, init_from, overrides, expected
):
    init_from = init_from.format(tmp=tmp_path, src=source_run)
    settings = {"num_train_steps": 2, "g_ema_decay": 0.9, "init_from": init_from, **overrides}
    config = tiny(**settings)
    with pytest.raises(UserError, match=expected):
        train.train_and_evaluate(config, tmp_path / "tuned")
    assert not (tmp_path / "tuned").exists()
    assert checkpoints.existing_steps(source_run) == [2, 4]


def test_freeze_d_with_a_d_of_ones_own_is_refused():
    config = tiny(freeze_d_layers=1)
    _, discriminator = models.build(tiny(d_width=16))  # not the config's own D
    create_train_state(config, jax.random.key(0), discriminator=models.build(config)[1])
    with pytest.raises(UserError, match="freezes layers of the config's own D"):
        create_train_state(config, jax.random.key(0), discriminator=discriminator)
