"""The stylegan2 family against NVlabs/stylegan2-ada-pytorch's definitions."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan.config import validation
from jaxgan.families import _stylegan2_nets as nets_lib
from jaxgan.families import _stylegan2_ops as ops
from jaxgan.families import stylegan2
from jaxgan.runtime.errors import UserError
from jaxgan.training import loop as train
from tests.conftest import tiny


def sg2_config(**overrides):
    config = tiny(
        family="stylegan2",
        dataset="mnist",
        image_size=8,
        num_channels=1,
        latent_dim=8,
        batch_size=4,
        stylegan2_mapping_layers=2,
        stylegan2_channel_base=64,
        stylegan2_channel_max=8,
        stylegan2_mbstd_group_size=2,
        g_beta1=0.0,
        d_beta1=0.0,
        g_beta2=0.99,
        d_beta2=0.99,
    )
    for name, value in overrides.items():
        config[name] = value
    return config


def count(tree) -> int:
    return sum(math.prod(a.shape) for a in jax.tree.leaves(tree))


@pytest.mark.parametrize(
    "spec,expected",
    [
        # train.py's cfg cifar (fmaps 1, map 2, mbstd 32, D 'orig') at 32x32x3, c_dim 10.
        (
            nets_lib.Spec(
                32, 3, c_dim=10, mapping_layers=2, d_architecture="orig", mbstd_group_size=32
            ),
            (20_215_315, 793_088, 23_089_664),
        ),
        # The same unconditional.
        (
            nets_lib.Spec(32, 3, mapping_layers=2, d_architecture="orig", mbstd_group_size=32),
            (19_947_539, 525_312, 20_720_641),
        ),
        # cfg paper256 (fmaps 0.5, map 8, mbstd 8, D 'resnet').
        (
            nets_lib.Spec(256, 3, channel_base=16384, mbstd_group_size=8),
            (24_767_458, 2_101_248, 24_001_089),
        ),
    ],
)
def test_parameter_counts_equal_the_references(spec, expected):
    # Counted by instantiating the reference's Generator / Discriminator with CPU torch
    # (/work/notes/stylegan2_spec.md, section 10).
    labels = jnp.zeros((2,), jnp.int32) if spec.c_dim else None
    z = jnp.zeros((2, spec.z_dim))
    images = jnp.zeros((2, spec.resolution, spec.resolution, spec.channels))
    g = jax.eval_shape(nets_lib.Generator(spec).init, jax.random.key(0), z, labels)
    d = jax.eval_shape(nets_lib.Discriminator(spec).init, jax.random.key(0), images, labels)
    got = (count(g["params"]), count(g["params"]["mapping_net"]), count(d["params"]))
    assert got == expected


# --- upfirdn2d against a NumPy port of the reference's _upfirdn2d_ref ---------------------


def upfirdn2d_reference(x, f, up, down, pad, gain):
    """NCHW, as torch_utils/ops/upfirdn2d.py's _upfirdn2d_ref, loop by loop."""
    n, c, h, w = x.shape
    z = np.zeros((n, c, h * up, w * up))
    z[:, :, ::up, ::up] = x
    x0, x1, y0, y1 = pad
    z = np.pad(z, ((0, 0), (0, 0), (max(y0, 0), max(y1, 0)), (max(x0, 0), max(x1, 0))))
    z = z[:, :, max(-y0, 0) : z.shape[2] - max(-y1, 0), max(-x0, 0) : z.shape[3] - max(-x1, 0)]
    k = np.flip(f * gain, (0, 1))
    fh, fw = k.shape
    out = np.zeros((n, c, z.shape[2] - fh + 1, z.shape[3] - fw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = np.sum(z[:, :, i : i + fh, j : j + fw] * k, axis=(2, 3))
    return out[:, :, ::down, ::down]


@pytest.mark.parametrize(
    "up,down,pad,gain",
    [
        (2, 1, (2, 1, 2, 1), 4.0),
        (1, 2, (1, 1, 1, 1), 1.0),
        (1, 1, (2, 2, 2, 2), 1.0),
        (2, 1, (3, 2, 3, 2), 4.0),
        (1, 1, (-1, 2, 0, -2), 1.0),
        (2, 2, (1, 0, 0, 1), 2.0),
    ],
)
def test_upfirdn2d_equals_the_reference_op(up, down, pad, gain):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 7, 6)).astype(np.float32)
    f = rng.random((4, 4)).astype(np.float32)  # asymmetric: the flip shows
    expected = upfirdn2d_reference(x.astype(np.float64), f, up, down, pad, gain)
    got = ops.upfirdn2d(jnp.asarray(x.transpose(0, 2, 3, 1)), f, up, down, pad, gain)
    np.testing.assert_allclose(np.asarray(got).transpose(0, 3, 1, 2), expected, atol=1e-5)


def test_the_separable_filter_path_equals_the_reference_op():
    x = np.random.default_rng(1).normal(size=(2, 3, 9, 8))
    for up, down, pad, gain in ((2, 1, (2, 1, 2, 1), 4.0), (1, 2, (1, 1, 1, 1), 1.0)):
        expected = upfirdn2d_reference(x, ops.FILTER.astype(np.float64), up, down, pad, gain)
        got = ops.upfirdn2d(
            jnp.asarray(x.transpose(0, 2, 3, 1), jnp.float32), ops.FILTER, up, down, pad, gain
        )
        np.testing.assert_allclose(np.asarray(got).transpose(0, 3, 1, 2), expected, atol=1e-5)


def test_the_filter_and_the_resampling_layers():
    np.testing.assert_allclose(ops.FILTER, np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 64)
    x = jax.random.normal(jax.random.key(0), (2, 6, 6, 3))
    w = jax.random.normal(jax.random.key(1), (3, 3, 3, 5))
    nchw = np.asarray(x).transpose(0, 3, 1, 2).astype(np.float64)
    # up 2, 3x3: FIR up (pad 3, 2, gain 4), then a true convolution with w.
    up = upfirdn2d_reference(nchw, ops.FILTER, 2, 1, (3, 2, 3, 2), 4.0)
    flipped = np.asarray(w)[::-1, ::-1]
    expected = np.zeros((2, 5, 12, 12))
    for i in range(12):
        for j in range(12):
            expected[:, :, i, j] = np.einsum(
                "ncab,abco->no", up[:, :, i : i + 3, j : j + 3], flipped
            )
    got = np.asarray(ops.conv2d_resample(x, w, up=2)).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert ops.conv2d_resample(x, w, down=2).shape == (2, 3, 3, 5)
    assert ops.upsample2d(x).shape == (2, 12, 12, 3) and ops.downsample2d(x).shape == (2, 3, 3, 3)


# --- Modulated convolutions ----------------------------------------------------------


@pytest.mark.parametrize("up", [1, 2])
def test_the_grouped_modulated_convolution_equals_a_per_sample_loop(up):
    keys = jax.random.split(jax.random.key(2), 3)
    x = jax.random.normal(keys[0], (3, 6, 6, 4))
    weight = jax.random.normal(keys[1], (3, 3, 4, 5))
    styles = jax.random.normal(keys[2], (3, 4)) + 1
    fused = nets_lib.modulated_conv(x, weight, styles, up=up, fused=True)
    shared = nets_lib.modulated_conv(x, weight, styles, up=up, fused=False)
    for n in range(3):
        w = weight * styles[n][None, None, :, None]
        w = w / jnp.sqrt(jnp.sum(w**2, axis=(0, 1, 2), keepdims=True) + 1e-8)
        single = ops.conv2d_resample(x[n : n + 1], w, up=up)
        np.testing.assert_allclose(fused[n : n + 1], single, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(shared[n : n + 1], single, rtol=1e-4, atol=1e-4)


def test_demodulated_outputs_have_unit_second_moment():
    keys = jax.random.split(jax.random.key(3), 3)
    x = jax.random.normal(keys[0], (8, 16, 16, 64))
    weight = jax.random.normal(keys[1], (3, 3, 64, 64))
    styles = jax.random.normal(keys[2], (8, 64)) + 1
    y = nets_lib.modulated_conv(x, weight, styles)
    interior = y[:, 1:-1, 1:-1]  # away from the zero padding
    assert float(jnp.mean(interior**2)) == pytest.approx(1.0, abs=0.05)


# --- Mapping, truncation, style mixing -----------------------------------------------


def initialised_g(config):
    g = stylegan2.build(config)["g"]
    z = jax.random.normal(jax.random.key(4), (4, config.latent_dim))
    return g, g.init(jax.random.key(5), z), z


def test_psi_zero_gives_one_image_for_every_z_and_the_cutoff_keeps_the_early_ws():
    config = sg2_config()
    g, variables, z = initialised_g(config)
    variables = {**variables, "stats": {"mapping_net": {"w_avg": jnp.full((8,), 0.3)}}}
    images = g.apply(variables, z, psi=0.0)
    np.testing.assert_allclose(images, jnp.broadcast_to(images[:1], images.shape), atol=1e-6)
    ws = g.apply(variables, z, method=g.mapping)
    cut = g.apply(variables, z, psi=0.0, cutoff=2, method=g.mapping)
    np.testing.assert_allclose(cut[:, :2], 0.3, rtol=1e-6)
    np.testing.assert_array_equal(cut[:, 2:], ws[:, 2:])


def test_w_avg_tracks_the_mean_w_in_training_only():
    config = sg2_config()
    g, variables, z = initialised_g(config)
    ws, updated = g.apply(variables, z, train=True, method=g.mapping, mutable=["stats"])
    expected = 0.005 * jnp.mean(ws[:, 0], axis=0)  # from 0, decay 0.995
    np.testing.assert_allclose(updated["stats"]["mapping_net"]["w_avg"], expected, rtol=1e-5)
    _, unchanged = g.apply(
        variables, z, train=True, update_w_avg=False, method=g.mapping, mutable=["stats"]
    )
    np.testing.assert_array_equal(unchanged["stats"]["mapping_net"]["w_avg"], 0.0)


def test_style_mixing_takes_w1_before_the_cutoff_and_w2_after():
    config = sg2_config(stylegan2_style_mixing=1.0)
    g, variables, z = initialised_g(config)
    from jaxgan.training.state import NetState

    net = NetState(
        params=variables["params"],
        collections={k: v for k, v in variables.items() if k != "params"},
        opt_state=None,
    )
    key = jax.random.key(6)
    ws, _ = stylegan2.mapped({"g": g}, config, net, net.params, z, None, key)
    cutoff_key, _, z_key = jax.random.split(key, 3)
    cutoff = int(jax.random.randint(cutoff_key, (), 1, ws.shape[1]))
    first = g.apply(variables, z, method=g.mapping)
    second = g.apply(variables, jax.random.normal(z_key, z.shape), method=g.mapping)
    np.testing.assert_allclose(ws[:, :cutoff], first[:, :cutoff], rtol=1e-6)
    np.testing.assert_allclose(ws[:, cutoff:], second[:, cutoff:], rtol=1e-6)
    assert 1 <= cutoff < ws.shape[1]


# --- Regularisers and the optimiser --------------------------------------------------


def test_the_path_length_gradient_matches_finite_differences():
    config = sg2_config()
    g, variables, z = initialised_g(config)
    ws = g.apply(variables, z, method=g.mapping)
    y = jax.random.normal(jax.random.key(7), (4, 8, 8, 1)) / 8.0

    def projected(ws):
        images = g.apply(variables, ws, method=g.synthesis, noise_mode="const")
        return jnp.sum(images * y)

    # Jitted: op by op, the nine passes of this G took most of the test's time.
    grads, projected = jax.jit(jax.grad(projected))(ws), jax.jit(projected)
    eps = 1e-2
    for index in [(0, 0, 0), (1, 3, 5), (3, 2, 7), (2, 1, 0)]:  # ws is (4, 4, 8)
        bump = jnp.zeros_like(ws).at[index].set(eps)
        numeric = (projected(ws + bump) - projected(ws - bump)) / (2 * eps)
        assert float(grads[index]) == pytest.approx(float(numeric), rel=1e-2, abs=1e-3)


def test_lazy_regularisation_adjusts_adam_as_the_reference():
    config = sg2_config(g_learning_rate=0.0025, d_learning_rate=0.0025)
    txs = stylegan2.optimizers(config)
    # mb_ratio = k / (k + 1): G (k 4) lr 0.002, beta2 0.99 ** 0.8; D (k 16) 16/17.
    expected = {
        "g": optax.adam(0.002, b1=0.0, b2=0.99**0.8, eps=1e-8),
        "d": optax.adam(0.0025 * 16 / 17, b1=0.0, b2=0.99 ** (16 / 17), eps=1e-8),
    }
    assert 0.99**0.8 == pytest.approx(0.991992, abs=1e-6)
    grads = [{"w": jax.random.normal(jax.random.key(k), (5,))} for k in range(3)]
    for name in ("g", "d"):
        states = [txs[name].init(grads[0]), expected[name].init(grads[0])]
        for g in grads:
            (got, states[0]), (want, states[1]) = (
                txs[name].update(g, states[0]),
                expected[name].update(g, states[1]),
            )
            np.testing.assert_allclose(got["w"], want["w"], rtol=1e-6)


def test_the_ema_decay_is_a_half_life_in_images_with_the_ramp_up():
    config = sg2_config(batch_size=64, stylegan2_ema_kimg=10.0)
    assert float(stylegan2.ema_beta(0, config)) == pytest.approx(0.5 ** (64 / 10_000))
    ramped = sg2_config(batch_size=64, stylegan2_ema_kimg=500.0, stylegan2_ema_rampup=0.05)
    assert float(stylegan2.ema_beta(0, ramped)) == 0.0  # a copy at the first step
    # After 1,000 steps (64k images): ema_nimg = min(500k, 64k x 0.05) = 3,200.
    assert float(stylegan2.ema_beta(1000, ramped)) == pytest.approx(0.5 ** (64 / 3200), rel=1e-6)


@pytest.mark.slow
def test_a_tiny_stylegan2_trains_with_every_phase_and_samples(tmp_path):
    config = sg2_config(
        num_train_steps=2,
        checkpoint_every_steps=2,
        log_every_steps=1,
        stylegan2_g_reg_interval=2,
        stylegan2_d_reg_interval=2,
    )
    train.train_and_evaluate(config, tmp_path / "run")
    assert (tmp_path / "run" / "samples" / "step_2.png").is_file()
    # jaxgan.sample --truncation for this family is psi towards w_avg: near 0, one image.
    from jaxgan import sample

    out = sample.run(tmp_path / "run", tmp_path / "t.npz", 8, truncation=1e-6)
    images = np.load(out)["images"].astype(float)
    assert np.abs(images - images[:1]).max() <= 1
    free = np.load(sample.run(tmp_path / "run", tmp_path / "f.npz", 8))["images"].astype(float)
    assert np.abs(free - free[:1]).max() > 10
    with pytest.raises(UserError, match=r"--truncation_cutoff must be in \[1, 4\]"):
        sample.run(tmp_path / "run", tmp_path / "c.npz", 8, truncation=0.5, truncation_cutoff=5)
    with pytest.raises(UserError, match="--truncation_cutoff limits --truncation"):
        sample.run(tmp_path / "run", tmp_path / "c.npz", 8, truncation_cutoff=2)
    # jaxgan.evaluate --truncation scores psi-truncated samples, said so in the record.
    from jaxgan.metrics import evaluation

    record = evaluation.evaluate_checkpoint(
        tmp_path / "run", num_samples=64, num_real=64, truncation=0.5
    )
    assert "w truncated towards w_avg with psi 0.5" in record["protocol"]["latents"]


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"image_size": 28}, "must be a power of two >= 8, got 28"),
        ({"stylegan2_d_architecture": "skip"}, "must be 'resnet' or 'orig'"),
        ({"batch_size": 6, "stylegan2_mbstd_group_size": 4}, "minibatch-stddev groups"),
        ({"stylegan2_style_mixing": 1.5}, "is a probability"),
        ({"stylegan2_d_reg_interval": -1}, "must be an integer >= 0"),
    ],
)
def test_settings_the_stylegan2_family_cannot_train_are_refused(overrides, message):
    with pytest.raises(UserError, match=message):
        validation.check_family(sg2_config(**overrides))


def tiny_state(config):
    from jaxgan.training.state import create_train_state

    return create_train_state(config, jax.random.key(0))


def context(config, state, step=0):
    from jaxgan.families import Context

    images = jax.random.uniform(jax.random.key(9), (1, config.batch_size, 8, 8, 1), minval=-1)
    batch = {"image": images}
    return Context(state.replace(step=jnp.int32(step)), batch, jax.random.key(10), 0, {})


def test_the_r1_loss_is_gamma_over_2_times_the_interval_times_the_squared_gradient():
    config = sg2_config(stylegan2_r1_gamma=0.5, stylegan2_d_reg_interval=16)
    nets, state = stylegan2.build(config), tiny_state(config)
    ctx = context(config, state)
    d_params = state.nets["d"].params
    loss, aux = jax.jit(lambda p: stylegan2.d_r1_loss(nets, config, p, ctx))({"d": d_params})
    reals = ctx.batch["image"][0]
    grads = jax.jit(jax.grad(lambda x: jnp.sum(nets["d"].apply({"params": d_params}, x))))(reals)
    squared = np.sum(np.square(np.asarray(grads)), axis=(1, 2, 3))
    assert float(loss) == pytest.approx(np.mean(squared) * 0.25 * 16, rel=1e-5)
    assert float(aux.metrics["d_r1_penalty"]) == pytest.approx(np.mean(squared), rel=1e-5)


def test_the_path_length_loss_and_its_running_mean():
    config = sg2_config(
        stylegan2_pl_weight=2.0, stylegan2_g_reg_interval=4, stylegan2_style_mixing=0.0
    )
    nets, state = stylegan2.build(config), tiny_state(config)
    state = state.replace(extras={"pl_mean": jnp.float32(0.7)})
    ctx = context(config, state)
    g_params = state.nets["g"].params
    loss, aux = jax.jit(lambda p: stylegan2.g_pl_loss(nets, config, p, ctx))({"g": g_params})
    # The same draws as the loss: z, (labels,) mixing, noise, then the projection y.
    g = nets["g"]
    z_key, _, _, noise_key, pl_key = jax.random.split(stylegan2.stream(ctx.key, "g_pl"), 5)
    z = jax.random.normal(z_key, (2, 8))  # batch 4 / shrink 2
    variables = {"params": g_params, **state.nets["g"].collections}
    ws = g.apply(variables, z, train=True, method=g.mapping, mutable=["stats"])[0]

    def synth(w):
        return g.apply(variables, w, train=True, method=g.synthesis, rngs={"noise": noise_key})

    y = jax.random.normal(pl_key, (2, 8, 8, 1)) / 8.0
    grads = np.asarray(jax.jit(jax.grad(lambda w: jnp.sum(synth(w) * y)))(ws))
    lengths = np.sqrt(np.mean(np.sum(grads**2, axis=2), axis=1))
    pl_mean = 0.7 + (lengths.mean() - 0.7) * 0.01
    assert float(aux.extras["pl_mean"]) == pytest.approx(pl_mean, rel=1e-5)
    expected = np.mean((lengths - pl_mean) ** 2) * 2.0 * 4
    assert float(loss) == pytest.approx(expected, rel=1e-4)


def test_scores_draw_random_noise_repeatably_and_grids_the_stored_maps():
    config = sg2_config()
    g, variables, z = initialised_g(config)
    strengths = jax.tree_util.tree_map_with_path(
        lambda path, x: jnp.ones_like(x) if "noise_strength" in str(path) else x,
        variables["params"],
    )
    variables = {**variables, "params": strengths}
    options = stylegan2.scoring_options(config)
    seeded = g.apply(variables, z, **options)
    np.testing.assert_array_equal(seeded, g.apply(variables, z, **options))
    other = g.apply(variables, z + 1, **options) - g.apply(variables, z + 1)
    const = g.apply(variables, z)
    assert float(jnp.abs(seeded - const).max()) > 1e-3
    assert float(jnp.abs(other).max()) > 1e-3


def test_generic_settings_the_family_does_not_read_are_refused():
    for field, value in (
        ("optimizer", "rmsprop"),
        ("lr_schedule", "linear"),
        ("g_ema_decay", 0.999),
        ("sample_with_running_stats", False),
    ):
        with pytest.raises(UserError, match=f"config.{field}"):
            validation.check_family(sg2_config(**{field: value}))


def test_bfloat16_runs_the_top_resolutions_as_the_reference_runs_float16():
    spec = nets_lib.Spec(
        32, 3, z_dim=16, w_dim=16, mapping_layers=2, channel_base=256, channel_max=16
    )
    half = spec._replace(dtype="bfloat16")
    # num_fp16_res 4 at 32 px: b8, b16, b32 (resolutions >= max(2^(5 + 1 - 4), 8)).
    assert [half.block_dtype(r).name for r in (4, 8, 16, 32)] == ["float32"] + ["bfloat16"] * 3
    assert half._replace(num_fp16_res=2).block_dtype(8).name == "float32"
    z = jax.random.normal(jax.random.key(0), (4, 16))
    full_g, half_g = nets_lib.Generator(spec), nets_lib.Generator(half)
    variables = jax.jit(full_g.init)(jax.random.key(1), z)
    # Jitted: op by op, the two nets' hundreds of small ops took ~40 s on 2 CPU cores.
    full, halved = jax.jit(full_g.apply)(variables, z), jax.jit(half_g.apply)(variables, z)
    assert halved.dtype == jnp.float32  # the image is summed in float32
    scale = float(jnp.abs(full).max())
    assert 0 < float(jnp.abs(full - halved).max()) < 0.03 * scale
    d_variables = jax.jit(nets_lib.Discriminator(spec).init)(jax.random.key(2), full)
    full_d = jax.jit(nets_lib.Discriminator(spec).apply)(d_variables, full)
    half_d = jax.jit(nets_lib.Discriminator(half).apply)(d_variables, full)
    assert half_d.dtype == jnp.float32
    assert float(jnp.abs(full_d - half_d).max()) < 0.03 * float(jnp.abs(full_d).max())


def test_the_fashion_config_is_the_references_auto_configuration_at_32_px():
    """train.py's `auto` at resolution 32 on one GPU: batch max(min(min(4096 // 32, 32),
    64), 1) = 32, stddev groups min(32, 4) = 4, gamma 0.0002 x 32^2 / 32 = 0.0064, EMA
    32 x 10 / 32 = 10 kimg ramped over 0.05, 2 mapping layers, lr 0.0025; the
    cfg_specs defaults: residual D, path length 2, style mixing 0.9."""
    import jaxgan

    config = jaxgan.load_config("configs/stylegan2.py:fashion")
    validation.validate(config)
    assert (config.image_size, config.batch_size, config.conditional) == (32, 32, False)
    assert config.stylegan2_mbstd_group_size == 4
    assert config.stylegan2_r1_gamma == pytest.approx(0.0064)
    assert (config.stylegan2_ema_kimg, config.stylegan2_ema_rampup) == (10.0, 0.05)
    assert config.stylegan2_mapping_layers == 2
    assert config.g_learning_rate == config.d_learning_rate == 0.0025
    assert config.stylegan2_d_architecture == "resnet"
    assert (config.stylegan2_pl_weight, config.stylegan2_style_mixing) == (2.0, 0.9)
    assert (config.stylegan2_g_reg_interval, config.stylegan2_d_reg_interval) == (4, 16)


def test_freeze_d_numbers_the_layers_as_the_reference():
    """stylegan2-ada-pytorch's --freezed counts D's layers in construction order, block by
    block from the top resolution: fromrgb (first block), conv0, conv1, skip ('resnet');
    the epilogue and the label mapping are not counted. Every other D parameter is one
    of these."""
    config = sg2_config(image_size=32, conditional=True, num_classes=10, stylegan2_channel_max=4)
    assert stylegan2.d_layers(config) == [
        "b32_fromrgb", "b32_conv0", "b32_conv1", "b32_skip",
        "b16_conv0", "b16_conv1", "b16_skip",
        "b8_conv0", "b8_conv1", "b8_skip",
    ]  # fmt: skip
    d = stylegan2.build(config)["d"]
    images, labels = jnp.zeros((2, 32, 32, 1)), jnp.zeros((2,), jnp.int32)
    params = jax.eval_shape(lambda: d.init(jax.random.key(0), images, labels))["params"]
    never_frozen = {"b4_conv", "b4_fc", "b4_out", "mapping"}
    assert set(params) - set(stylegan2.d_layers(config)) == never_frozen
    orig = sg2_config(image_size=16, stylegan2_d_architecture="orig")
    expected = ["b16_fromrgb", "b16_conv0", "b16_conv1", "b8_conv0", "b8_conv1"]
    assert stylegan2.d_layers(orig) == expected
    orig.freeze_d_layers = 6
    with pytest.raises(UserError, match="freeze_d_layers=6: this D has 5 layers Freeze-D counts"):
        validation.check_family(orig)


def test_a_step_with_freeze_d_keeps_the_first_layers_and_trains_the_rest():
    """One real step (both main phases and R1): the first 3 layers (b8_fromrgb, b8_conv0,
    b8_conv1) keep their weights exactly; the skip, the epilogue and G move."""
    from jaxgan.training import step as step_lib

    config = sg2_config(freeze_d_layers=3, stylegan2_d_reg_interval=1)
    validation.check_family(config)
    family, nets = stylegan2, stylegan2.build(config)
    state = tiny_state(config)
    batch = {"image": jax.random.uniform(jax.random.key(9), (1, 4, 8, 8, 1), minval=-1)}
    new, _ = jax.jit(step_lib.make_step_function(config, family, nets))(state, batch)
    before, after = state.nets["d"].params, new.nets["d"].params
    changed = jax.tree.map(lambda a, b: not np.array_equal(a, b), before, after)
    moved = {name: any(jax.tree.leaves(changed[name])) for name in before}
    assert {name for name, m in moved.items() if not m} == {"b8_fromrgb", "b8_conv0", "b8_conv1"}
    assert moved["b8_skip"] and moved["b4_out"]
    g_before, g_after = state.nets["g"].params, new.nets["g"].params
    assert any(
        jax.tree.leaves(jax.tree.map(lambda a, b: not np.array_equal(a, b), g_before, g_after))
    )


def test_the_path_length_penalty_gradient_matches_finite_differences():
    """The gradient G's update takes from the penalty (a second-order derivative: the
    penalty is a function of d sum(G(w) y) / dw) against central differences of the
    penalty itself, along random directions in the toRGB layers' parameters (affine,
    weight, bias). Only there is the penalty smooth: d G / dw holds lrelu's step-function
    slope, so moving any parameter upstream of an activation makes the lengths jump where
    a unit changes sign, and no finite difference can follow a jump. The phase draws from
    the context's key, so the penalty is a deterministic function of the parameters."""
    config = sg2_config(
        stylegan2_pl_weight=2.0, stylegan2_g_reg_interval=4, stylegan2_style_mixing=0.0
    )
    nets, state = stylegan2.build(config), tiny_state(config)
    state = state.replace(extras={"pl_mean": jnp.float32(0.3)})
    ctx = context(config, state)

    @jax.jit  # op by op, the seven evaluations of this second-order penalty took ~20 s
    def penalty(g_params):
        return stylegan2.g_pl_loss(nets, config, {"g": g_params}, ctx)[0]

    params = state.nets["g"].params
    grads = jax.jit(jax.grad(penalty))(params)
    paths_and_leaves = jax.tree_util.tree_flatten_with_path(params)[0]
    in_torgb = ["torgb" in jax.tree_util.keystr(path) for path, _ in paths_and_leaves]
    assert sum(in_torgb) == 8  # affine w and b, weight, bias; at 4 and 8 px
    eps = 1e-3  # the penalty curves: at 1e-2 the differences are 0.4% off the limit
    for seed in range(3):
        keys = jax.random.split(jax.random.key(100 + seed), len(in_torgb))
        direction = jax.tree.unflatten(
            jax.tree.structure(params),
            [
                jax.random.normal(k, leaf.shape) if torgb else jnp.zeros_like(leaf)
                for k, (_, leaf), torgb in zip(keys, paths_and_leaves, in_torgb, strict=True)
            ],
        )
        analytic = sum(
            float(jnp.vdot(g, v))
            for g, v in zip(jax.tree.leaves(grads), jax.tree.leaves(direction), strict=True)
        )
        shifted = [
            penalty(jax.tree.map(lambda p, v, s=sign: p + s * eps * v, params, direction))
            for sign in (1.0, -1.0)
        ]
        numeric = float(shifted[0] - shifted[1]) / (2 * eps)
        assert abs(analytic) > 1e-3  # the directions reach the penalty
        assert analytic == pytest.approx(numeric, rel=1e-2, abs=2e-5)


def test_a_resumed_run_is_bit_identical_to_an_uninterrupted_one(tmp_path):
    """4 steps straight against 2 + 2 resumed, with the path-length and R1 phases in both
    halves (intervals 2): every net, optimiser state, average, the w_avg and noise
    collections and the running pl_mean are restored exactly; and the restored run
    samples through `jaxgan.sample --truncation` (the slow test's checks, kept quick)."""
    from jaxgan.training import checkpoints

    pixels = np.random.default_rng(0).integers(0, 256, (32, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "data.npz", images=pixels)
    config = sg2_config(
        dataset=f"npz:{tmp_path / 'data.npz'}",
        num_train_steps=4,
        checkpoint_every_steps=2,
        log_every_steps=2,
        stylegan2_g_reg_interval=2,
        stylegan2_d_reg_interval=2,
    )
    train.train_and_evaluate(config, tmp_path / "straight")
    halfway = sg2_config(**{**config.to_dict(), "num_train_steps": 2})
    train.train_and_evaluate(halfway, tmp_path / "interrupted")
    train.train_and_evaluate(config, tmp_path / "interrupted")

    def final(workdir):
        manager = checkpoints.manager(workdir, config)
        try:
            return jax.device_get(checkpoints.restore(manager, tiny_state(config))[0])
        finally:
            manager.close()

    straight, resumed = final(tmp_path / "straight"), final(tmp_path / "interrupted")
    assert int(straight.step) == int(resumed.step) == 4
    assert float(resumed.extras["pl_mean"]) > 0  # the path-length phase ran and is kept
    same = jax.tree.map(np.array_equal, straight, resumed)
    assert all(jax.tree.leaves(same)), "the resumed run differs from the uninterrupted one"
    # jaxgan.sample --truncation of the restored run: psi near 0 puts every w at w_avg.
    from jaxgan import sample

    out = sample.run(tmp_path / "interrupted", tmp_path / "t.npz", 8, truncation=1e-6)
    images = np.load(out)["images"].astype(float)
    assert np.abs(images - images[:1]).max() <= 1
    free = np.load(sample.run(tmp_path / "interrupted", tmp_path / "f.npz", 8))["images"]
    assert np.abs(free.astype(float) - free[:1]).max() > 10
