"""The progan family against the official code's definitions (tkarras/
progressive_growing_of_gans: networks.py, loss.py, train.py)."""

import math
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxgan
from jaxgan.config import validation
from jaxgan.families import _progan_nets as nets_lib
from jaxgan.families import progan
from jaxgan.runtime.errors import UserError
from jaxgan.training import checkpoints
from jaxgan.training import loop as train
from jaxgan.training.state import create_train_state
from tests.conftest import tiny

SPEC = nets_lib.Spec(resolution_log2=4, channels=3, latent_dim=8, fmap_base=64, fmap_max=16)


def progan_config(**overrides):
    """A 16x16 ProGAN of width 16 whose schedule moves in a few steps of batch 8."""
    config = tiny(
        family="progan",
        image_size=16,
        num_channels=1,
        latent_dim=8,
        batch_size=8,
        progan_fmap_base=64,
        progan_fmap_max=16,
        progan_training_kimg=0.016,  # 2 steps of 8 images
        progan_transition_kimg=0.032,  # 4 steps
        progan_minibatch_repeats=1,
        g_beta1=0.0,
        d_beta1=0.0,
        g_beta2=0.99,
        d_beta2=0.99,
        g_ema_decay=0.999,
    )
    for name, value in overrides.items():
        config[name] = value
    return config


def params_of(shapes, seed):
    keys = iter(jax.random.split(jax.random.key(seed), 2 * len(shapes)))
    return {
        name: {
            "w": jax.random.normal(next(keys), shape),
            "b": 0.1 * jax.random.normal(next(keys), (bias,)),
        }
        for name, (shape, bias) in shapes.items()
    }


def test_parameter_counts_equal_the_references_at_32_px():
    # Counted from networks.py's G_paper / D_paper (3 channels, latent 512, defaults),
    # every lod's toRGB / fromRGB included: /work/notes/progan_counts.py's arithmetic.
    config = progan_config(image_size=32, num_channels=3, latent_dim=512)
    config.progan_fmap_base, config.progan_fmap_max = 8192, 512
    built = progan.build(config)
    counts = {}
    for name, example in (("g", jnp.zeros((1, 512))), ("d", jnp.zeros((1, 32, 32, 3)))):
        shapes = jax.eval_shape(built[name].init, jax.random.key(0), example)
        counts[name] = sum(math.prod(a.shape) for a in jax.tree.leaves(shapes["params"]))
    assert counts == {"g": 20_719_628, "d": 20_726_785}


@pytest.mark.parametrize(
    "kimg,lod",
    [
        (0, 3.0),
        (599, 3.0),
        (600, 3.0),
        (900, 2.5),
        (1199, 2 + 1 / 600),
        (1200, 2.0),
        (1800, 2.0),
        (2100, 1.5),
        (3000, 1.0),
        (3599, 1 / 600),
        (3600, 0.0),
        (9999, 0.0),
    ],
)
def test_the_lod_schedule_is_the_references_training_schedule(kimg, lod):
    # R = 5 (32 px) from 4x4: lod 3 - phase - max(t - 600, 0) / 600, floored at 0.
    config = progan_config(image_size=32, progan_training_kimg=600.0, progan_transition_kimg=600.0)
    shown = jnp.int32(kimg * 1000)
    assert float(progan.lod_at_images(shown, config)) == pytest.approx(lod, abs=1e-5)


def test_the_lod_is_evaluated_every_minibatch_repeats_steps():
    config = progan_config(
        image_size=32,
        batch_size=100,
        progan_minibatch_repeats=4,
        progan_training_kimg=0.4,
        progan_transition_kimg=0.8,
    )
    # Steps 0-3 see 0 images shown, 4-7 see 400: the end of the first stable phase.
    lods = [float(progan.lod_at_step(step, config)) for step in range(12)]
    assert lods == pytest.approx([3.0] * 8 + [2.5] * 4)  # 800 images: 400 into the fade


def test_pixel_norm_gives_unit_mean_square_per_pixel():
    x = jax.random.normal(jax.random.key(1), (2, 3, 3, 7)) * 5
    mean_square = jnp.mean(jnp.square(nets_lib.pixel_norm(x)), axis=-1)
    np.testing.assert_allclose(mean_square, 1.0, rtol=1e-5)


def test_minibatch_stddev_is_the_references_formula():
    x = np.random.default_rng(0).normal(size=(8, 4, 4, 5)).astype(np.float32)
    got = np.asarray(nets_lib.minibatch_stddev(jnp.asarray(x), 4))
    # networks.py's minibatch_stddev_layer, transcribed in NCHW: [G, M, C, H, W].
    nchw = x.transpose(0, 3, 1, 2)
    y = nchw.reshape(4, 2, 5, 4, 4)
    y = y - y.mean(axis=0, keepdims=True)
    y = np.sqrt(np.square(y).mean(axis=0) + 1e-8).mean(axis=(1, 2, 3))  # [M]
    expected = np.tile(y, 4)  # sample n -> group n % M
    np.testing.assert_allclose(got[..., :5], x)
    np.testing.assert_allclose(
        got[..., 5], np.broadcast_to(expected[:, None, None], (8, 4, 4)), rtol=1e-6
    )


@pytest.mark.parametrize("level", [3, 4])
def test_at_the_start_of_a_fade_g_and_d_are_the_lower_resolutions(level):
    g_params = params_of(nets_lib.g_layer_shapes(SPEC), 0)
    d_params = params_of(nets_lib.d_layer_shapes(SPEC), 1)
    z = jax.random.normal(jax.random.key(2), (4, 8))
    # Fade f = 1 (alpha 0): G at 2^r is the nearest-upsampled G at 2^(r-1).
    fading = nets_lib.generate(g_params, z, SPEC, level, jnp.float32(1.0))
    lower = nets_lib.generate(g_params, z, SPEC, level - 1, jnp.float32(0.0))
    np.testing.assert_allclose(fading, lower, atol=1e-5)
    # D at 2^r on x is D at 2^(r-1) on the average-pooled x.
    images = jax.random.normal(jax.random.key(3), (4, 16, 16, 3))
    np.testing.assert_allclose(
        nets_lib.discriminate(d_params, images, SPEC, level, jnp.float32(1.0)),
        nets_lib.discriminate(d_params, images, SPEC, level - 1, jnp.float32(0.0)),
        atol=1e-5,
    )


def test_the_old_torgb_and_fromrgb_get_no_gradient_once_faded_in():
    g_params = params_of(nets_lib.g_layer_shapes(SPEC), 0)
    d_params = params_of(nets_lib.d_layer_shapes(SPEC), 1)
    z = jax.random.normal(jax.random.key(2), (4, 8))
    images = jax.random.normal(jax.random.key(3), (4, 16, 16, 3))
    for fade, zero in ((0.0, True), (0.5, False)):

        def g_sum(p, fade=fade):
            return jnp.sum(nets_lib.generate(p, z, SPEC, 4, fade) ** 2)

        def d_sum(p, fade=fade):
            return jnp.sum(nets_lib.discriminate(p, images, SPEC, 4, fade))

        g_grads, d_grads = jax.grad(g_sum)(g_params), jax.grad(d_sum)(d_params)
        for grads, name in ((g_grads, "torgb8"), (d_grads, "fromrgb8")):
            assert (np.abs(grads[name]["w"]).max() == 0) == zero, (name, fade)
        # Layers above the active level are not used at all.
    g_grads = jax.grad(lambda p: jnp.sum(nets_lib.generate(p, z, SPEC, 3, 0.5)))(g_params)
    assert np.abs(g_grads["conv16_1"]["w"]).max() == 0 and np.abs(g_grads["conv8_1"]["w"]).max()


def test_the_reals_fade_as_the_references_process_reals():
    x = np.random.default_rng(4).normal(size=(2, 8, 8, 1)).astype(np.float32)
    spec = SPEC._replace(resolution_log2=3)
    # Level 2 (4x4) with fade 0.25: pooled 2x, blended with the 2x2 pooled-then-
    # upsampled image by 0.25, nearest-upsampled back to 8x8.
    pooled = x.reshape(2, 4, 2, 4, 2, 1).mean(axis=(2, 4))
    blur = np.repeat(np.repeat(pooled.reshape(2, 2, 2, 2, 2, 1).mean(axis=(2, 4)), 2, 1), 2, 2)
    blended = pooled + (blur - pooled) * 0.25
    expected = np.repeat(np.repeat(blended, 2, 1), 2, 2)
    got = nets_lib.fade_reals(jnp.asarray(x), spec, 2, jnp.float32(0.25))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(nets_lib.fade_reals(jnp.asarray(x), spec, 3, 0.0), x)


def test_the_modules_run_the_level_their_lod_names():
    config = progan_config(num_channels=3)
    built = progan.build(config)
    z = jax.random.normal(jax.random.key(5), (4, 8))
    variables = built["g"].init(jax.random.key(6), z)
    assert float(variables["progress"]["lod"]) == 2.0  # 16 px from 4x4
    spec = progan.spec(config)
    for lod, level, fade in ((2.0, 2, 0.0), (1.25, 4 - 1, 0.25), (0.5, 4, 0.5), (0.0, 4, 0.0)):
        images = built["g"].apply({**variables, "progress": {"lod": jnp.float32(lod)}}, z)
        expected = nets_lib.generate(variables["params"], z, spec, level, jnp.float32(fade))
        np.testing.assert_allclose(images, expected, rtol=1e-5, atol=1e-5)


def test_the_optimiser_state_restarts_when_floor_or_ceil_of_lod_changes():
    lods = jnp.array([3.0, 3.0, 2.5, 2.0, 2.0, 1.5, 1.0])  # lod of update k
    tx = progan.reset_at_new_lod(optax.adam(0.1, b1=0.0, b2=0.99), lambda k: lods[k])
    params = {"w": jnp.ones(3)}
    state = tx.init(params)
    counts = []
    for _ in range(len(lods)):
        _, state = tx.update({"w": jnp.ones(3)}, state, params)
        counts.append(int(state.inner[0].count))
    # Resets before update 2 (3 -> 2.5: floor 3 -> 2), 3 (ceil 3 -> 2), 5 (2 -> 1.5:
    # floor), 6 (ceil 2 -> 1).
    assert counts == [1, 2, 1, 1, 2, 1, 1]


def test_a_tiny_progan_trains_through_a_fade_resumes_exactly_and_samples_mid_fade(tmp_path):
    config = progan_config(num_train_steps=7, checkpoint_every_steps=3, log_every_steps=1)
    train.train_and_evaluate(config, tmp_path / "straight")
    train.train_and_evaluate(config, tmp_path / "resumed")
    # The lod of step s (8s images shown): 2 for s <= 2, then the fade 2 - (8s - 16) / 32
    # for s = 3..5, then 1. Resuming from checkpoint 3 (after step 2, stable at 2)
    # crosses the phase change (and its optimiser reset) at once.
    shutil.rmtree(checkpoints.directory(tmp_path / "resumed") / "7")
    shutil.rmtree(checkpoints.directory(tmp_path / "resumed") / "6")
    train.train_and_evaluate(config, tmp_path / "resumed")
    states = []
    for run in ("straight", "resumed"):
        mngr = checkpoints.manager(tmp_path / run, config)
        states.append(jax.device_get(checkpoints.restore(mngr, create_train_state(config))[0]))
        mngr.close()
    assert all(jax.tree.leaves(jax.tree.map(np.array_equal, *states)))
    # The nets hold the lod of the last step they ran (step 6: lod 1).
    assert float(states[0].nets["g"].collections["progress"]["lod"]) == 1.0
    # Checkpoint 6 was saved mid-fade (its last step, 5, ran at lod 1.25): it samples there.
    generator = jaxgan.load_generator(tmp_path / "straight", step=6)
    lod = float(generator.net.collections["progress"]["lod"])
    assert lod == pytest.approx(1.25)
    z = jax.random.normal(jax.random.key(0), (8, 8))
    expected = nets_lib.generate(generator.net.params, z, progan.spec(config), 3, 0.25)
    np.testing.assert_allclose(generator(z), expected, rtol=1e-5, atol=1e-5)
    assert (tmp_path / "straight" / "samples" / "step_7.png").is_file()
    # ... and is scored there.
    from jaxgan.metrics import evaluation

    record = evaluation.evaluate_checkpoint(
        tmp_path / "straight", step=6, num_samples=32, num_real=32
    )
    assert record["step"] == 6 and np.isfinite(record["fid"])


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"image_size": 48}, "must be a power of two >= 8, got 48"),
        ({"image_size": 4}, "must be a power of two >= 8, got 4"),
        ({"progan_initial_resolution": 32}, "progan_initial_resolution must be a power of two"),
        ({"d_steps": 2}, "config.d_steps=2 is a setting of the gan family"),
        ({"batch_size": 10}, "must divide into minibatch-stddev groups"),
        ({"progan_training_kimg": 0.0, "progan_transition_kimg": 0.0}, "not both 0"),
    ],
)
def test_settings_the_progan_family_cannot_train_are_refused(overrides, message):
    with pytest.raises(UserError, match=message):
        validation.check_family(progan_config(**overrides))


def test_the_d_loss_is_wgan_gp_with_the_drift_term_in_closed_form():
    """The reference's loss.py D_wgan_gp: D(fake) - D(real) + lambda / target^2 x
    (|grad D(mix)| - target)^2 + epsilon x D(real)^2, averaged, with lambda 10, target 1
    and epsilon 0.001 (its defaults, configs/progan.py's). With a linear D, D(x) = w.x + b,
    the gradient at every mix is w, so each term has a closed form."""
    import flax.linen as nn

    from jaxgan.families import Context

    config = progan_config(progan_initial_resolution=16)  # lod 0: the reals are unfaded
    assert (config.progan_gp_weight, config.progan_gp_target, config.progan_drift) == (
        10.0,
        1.0,
        0.001,
    )
    shape = (16, 16, 1)
    w = 0.05 * np.asarray(jax.random.normal(jax.random.key(1), shape))
    fake = np.asarray(jax.random.uniform(jax.random.key(2), shape, minval=-1))

    class LinearD(nn.Module):
        @nn.compact
        def __call__(self, x):
            kernel = self.param("w", lambda *_: jnp.asarray(w))
            bias = self.param("b", lambda *_: jnp.asarray([0.3]))
            return jnp.sum(x * kernel, axis=(1, 2, 3))[:, None] + bias

    class ConstantG(nn.Module):
        @nn.compact
        def __call__(self, z):
            self.param("unused", nn.initializers.zeros, (1,))
            return jnp.broadcast_to(jnp.asarray(fake), (z.shape[0], *shape))

    nets = {"g": ConstantG(), "d": LinearD()}
    d_params = nets["d"].init(jax.random.key(0), jnp.zeros((1, *shape)))["params"]
    g_params = nets["g"].init(jax.random.key(0), jnp.zeros((1, 8)))["params"]
    reals = np.asarray(jax.random.uniform(jax.random.key(3), (8, *shape), minval=-1))
    state = state_with(g_params, d_params)
    ctx = Context(state, {"image": jnp.asarray(reals)[None]}, jax.random.key(4), 0, {})
    loss, aux = progan.d_loss(nets, config, {"d": d_params}, ctx)

    real_scores = np.sum(reals * w, axis=(1, 2, 3)) + 0.3
    fake_score = np.sum(fake * w) + 0.3
    penalty = 10.0 * (np.sqrt(np.sum(w**2)) - 1.0) ** 2
    expected = np.mean(fake_score - real_scores + penalty + 0.001 * real_scores**2)
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    assert float(aux.metrics["d_gp"]) == pytest.approx(penalty, rel=1e-5)
    assert float(aux.metrics["d_drift"]) == pytest.approx(np.mean(0.001 * real_scores**2), rel=1e-5)
    # G's loss is -D(G(z)), averaged.
    g_loss, _ = progan.g_loss(nets, config, {"g": g_params}, ctx)
    assert float(g_loss) == pytest.approx(-fake_score, rel=1e-5)


def state_with(g_params, d_params):
    """A TrainState at step 0 holding just the two nets' parameters."""
    from jaxgan.training.state import NetState, TrainState

    return TrainState(
        step=jnp.zeros((), jnp.int32),
        key=jax.random.key_data(jax.random.key(0)),
        nets={
            "g": NetState(params=g_params, collections={}, opt_state=None),
            "d": NetState(params=d_params, collections={}, opt_state=None),
        },
        ema={},
    )
