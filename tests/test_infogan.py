"""The networks of Lucic et al. 2018 (jaxgan/nn/models/infogan.py) and the study's config:
parameter counts from the study's layer list, TensorFlow's 'SAME' strided layers, the
uniform latent, the [0, 1] image range, and the per-loss settings."""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.config import validation as config_validation
from jaxgan.config.loading import load_config
from jaxgan.metrics import evaluation, reference
from jaxgan.nn import layers, models
from jaxgan.objectives import losses, penalties
from jaxgan.runtime.errors import UserError
from jaxgan.training import state as train_state


def study_config(arg: str = "ns"):
    return load_config(f"configs/are_gans_created_equal.py:{arg}")


def count(tree) -> int:
    return sum(x.size for x in jax.tree.leaves(tree))


def test_parameter_counts_are_the_studys_layers():
    # Counted abstractly (jax.eval_shape): compiling the two states' creation took ~15 s.
    state = jax.eval_shape(lambda: train_state.create_train_state(study_config("ns")))
    # G: dense 64->1024 (+bias), BN 1024, dense 1024->6272 (+bias), BN 6272,
    # deconv 4x4 128->64 (+bias), BN 64, deconv 4x4 64->1 (+bias).
    g = (64 * 1024 + 1024) + 2 * 1024 + (1024 * 6272 + 6272) + 2 * 6272
    g += (16 * 128 * 64 + 64) + 2 * 64 + (16 * 64 + 1)
    assert count(state.g.params) == g == 6_642_241
    # D: conv 4x4 1->64, conv 4x4 64->128, BN 128, dense 6272->1024, BN 1024, dense 1024->1.
    d = (16 * 64 + 64) + (16 * 64 * 128 + 128) + 2 * 128 + (6272 * 1024 + 1024) + 2 * 1024
    d += 1024 + 1
    assert count(state.d.params) == d
    # WGAN-GP's D has no BatchNorm.
    no_bn = jax.eval_shape(lambda: train_state.create_train_state(study_config("wgan_gp")))
    assert count(no_bn.d.params) == d - 2 * 128 - 2 * 1024


def test_strided_layers_are_tensorflows_same_padding():
    rng = np.random.default_rng(0)
    for size in (28, 14):
        x = jnp.asarray(rng.normal(size=(2, size, size, 3)), jnp.float32)
        kernel = jnp.asarray(rng.normal(size=(4, 4, 3, 5)), jnp.float32)
        same = jax.lax.conv_general_dilated(
            x, kernel, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        ours = layers.DownsampleConv(5).apply({"params": {"kernel": kernel}}, x)
        np.testing.assert_allclose(ours, same, rtol=1e-5, atol=1e-5)
    # TensorFlow's conv2d_transpose(SAME) is the input gradient of conv2d(SAME) with its
    # filter (h, w, out, in); jaxgan's layer applies the spatially flipped, transposed
    # kernel.
    for size in (7, 14):
        x = jnp.asarray(rng.normal(size=(2, size, size, 3)), jnp.float32)
        tf_filter = jnp.asarray(rng.normal(size=(4, 4, 5, 3)), jnp.float32)

        def conv(y, tf_filter=tf_filter):
            return jax.lax.conv_general_dilated(
                y, tf_filter, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
            )

        _, pullback = jax.vjp(conv, jnp.zeros((2, 2 * size, 2 * size, 5)))
        (tensorflow,) = pullback(x)
        kernel = jnp.flip(tf_filter, (0, 1)).transpose(0, 1, 3, 2)
        ours = layers.UpsampleConvTranspose(5).apply({"params": {"kernel": kernel}}, x)
        np.testing.assert_allclose(ours, tensorflow, rtol=1e-5, atol=1e-5)


def test_latent_is_uniform_and_images_are_in_the_studys_range():
    config = study_config("ns")
    generator, discriminator = models.build(config)
    state = train_state.create_train_state(config)
    z = jax.random.normal(jax.random.key(0), (200_000,))
    u = np.asarray(jax.scipy.special.erf(z / math.sqrt(2.0)))
    # U[-1, 1]: deciles at -0.8, -0.6, ..., 0.8 (standard error of a decile ~0.0013).
    np.testing.assert_allclose(np.quantile(u, np.arange(1, 10) / 10), np.arange(-8, 9, 2) / 10,
                               atol=0.006)  # fmt: skip
    # G ends in 2 sigmoid(.) - 1: with its last layer zeroed, sigmoid(0) = 1/2 is the
    # jaxgan value 0 everywhere (a G ending in the sigmoid alone would give 0.5).
    g_params = jax.tree.map(lambda x: x, state.g.params)
    for name in ("UpsampleConvTranspose_1", "Bias_1"):
        g_params[name] = jax.tree.map(jnp.zeros_like, g_params[name])
    z = jax.random.normal(jax.random.key(1), (4, 64))
    images = generator.apply({"params": g_params, **state.g.collections}, z, train=False)
    assert images.shape == (4, 28, 28, 1)
    np.testing.assert_allclose(images, 0.0, atol=1e-7)

    # D works on [0, 1]: its first layer sees (x + 1) / 2, so a black image (-1) reaches it
    # as 0, and a D with an all-ones first kernel judges it as one with a zero kernel does.
    def judge(kernel_value, image):
        params = jax.tree.map(lambda x: x, state.d.params)
        first = params["DownsampleConv_0"]
        params["DownsampleConv_0"] = {"kernel": jnp.full_like(first["kernel"], kernel_value)}
        return discriminator.apply({"params": params, **state.d.collections}, image, train=False)

    black, white = -jnp.ones((2, 28, 28, 1)), jnp.ones((2, 28, 28, 1))
    np.testing.assert_allclose(judge(1.0, black), judge(0.0, white), rtol=1e-6)
    assert not np.allclose(judge(1.0, white), judge(0.0, white))


def test_least_squares_and_dragan_on_probabilities():
    real, fake = jnp.array([0.0, 2.0]), jnp.array([-1.0, 0.0])
    d_loss, g_loss = losses.least_squares_sigmoid(real, fake)
    s = lambda x: 1 / (1 + np.exp(-np.asarray(x)))  # noqa: E731
    assert float(d_loss) == pytest.approx(
        0.5 * np.mean((s(real) - 1) ** 2) + 0.5 * np.mean(s(fake) ** 2), rel=1e-6
    )
    assert float(g_loss) == pytest.approx(0.5 * np.mean((s(fake) - 1) ** 2), rel=1e-6)
    # A linear D(x) = w.x: the logit's input gradient is w, the probability's
    # sigmoid'(w.x) w, whose norm at x_hat is computed by hand below.
    w = jnp.array([[0.6, 0.8]])
    real = jnp.array([[1.0, 0.0], [0.0, 2.0]])
    key = jax.random.key(3)

    def d(x):
        return (x.reshape(x.shape[0], -1) @ w.T)[:, 0]

    noise_key, mix_key = jax.random.split(key)
    perturbed = real + 0.5 * jnp.std(real) * jax.random.uniform(noise_key, real.shape)
    alpha = jax.random.uniform(mix_key, (2, 1))
    points = alpha * real + (1 - alpha) * perturbed
    slope = s(d(points)) * (1 - s(d(points)))  # |grad| = slope * |w| = slope
    expected = np.mean((slope - 1) ** 2)
    assert float(penalties.dragan_sigmoid(d, real, None, key)) == pytest.approx(expected, rel=1e-5)
    assert float(penalties.dragan(d, real, None, key)) == pytest.approx(0.0, abs=1e-10)


def test_penalties_are_taken_in_the_models_image_range():
    # D(x) = w . u with u = (x + 1) / 2 the [0, 1] image and |w| = 1: its gradient is w in
    # [0, 1] (WGAN-GP's penalty 0) but w / 2 in [-1, 1] ((1/2 - 1)^2 = 1/4).
    w = jnp.array([0.6, 0.8])

    def d(x):
        return ((x.reshape(x.shape[0], -1) + 1.0) / 2.0) @ w

    real, fake = jnp.array([[0.5, -0.5], [1.0, 0.0]]), jnp.array([[-1.0, 1.0], [0.0, 0.2]])
    key = jax.random.key(0)
    assert float(penalties.wgan_gp(d, real, fake, key)) == pytest.approx(0.25)
    in_unit = penalties.in_range(penalties.wgan_gp, (0.0, 1.0), d, real, fake, key)
    assert float(in_unit) == pytest.approx(0.0, abs=1e-6)
    same = penalties.in_range(penalties.wgan_gp, (-1.0, 1.0), d, real, fake, key)
    assert float(same) == pytest.approx(0.25)
    assert models.image_range(study_config("wgan_gp")) == (0.0, 1.0)
    assert models.image_range(load_config("configs/dcgan.py")) == (-1.0, 1.0)


@pytest.mark.parametrize(
    "arg, expected",
    [
        ("mm", ("minimax", "none", 5e-5, 0.0, "batch_norm", 1, 15_625, 0.0)),
        ("ns", ("non_saturating", "none", 5e-5, 0.0, "batch_norm", 1, 15_625, 0.0)),
        ("lsgan", ("least_squares_sigmoid", "none", 2e-4, 0.5, "batch_norm", 1, 15_625, 0.0)),
        ("wgan", ("wasserstein", "none", 5e-5, 0.5, "batch_norm", 5, 3_125, 0.01)),
        ("wgan_gp", ("wasserstein", "wgan_gp", 1e-4, 0.5, "none", 5, 3_125, 0.0)),
        ("dragan,fashion_mnist", ("non_saturating", "dragan_sigmoid", 1e-4, 0.5, "batch_norm",
                                  1, 15_625, 0.0)),
    ],
)  # fmt: skip
def test_each_loss_has_the_studys_defaults(arg, expected):
    config = study_config(arg)
    config_validation.validate(config)
    got = (
        config.loss, config.penalty, config.d_learning_rate, config.d_beta1, config.d_norm,
        config.d_steps, config.num_train_steps, config.d_weight_clip,
    )  # fmt: skip
    assert got == expected
    assert config.g_learning_rate == config.d_learning_rate and config.g_beta1 == config.d_beta1
    assert (config.batch_size, config.latent_dim) == (64, 64)
    assert config.num_train_steps * config.d_steps == 15_625
    dataset = arg.partition(",")[2] or "mnist"
    assert (config.dataset, config.fid_reference) == (dataset, f"{dataset}:test")


def test_fid_reference_is_the_test_split():
    config = study_config("ns,fashion_mnist")
    reference_config = evaluation.reference_config(config)
    assert config.dataset == "fashion_mnist"  # the run's own config is untouched
    ref = reference.describe(reference_config, None, 10_000)
    assert (ref.dataset, ref.split, ref.num_images) == ("fashion_mnist", "test", 10_000)
    plain = study_config("ns")
    plain.fid_reference = ""
    assert evaluation.reference_config(plain) is plain


def test_bad_arguments_and_settings_are_refused():
    with pytest.raises(ValueError, match="LOSS\\[,DATASET\\]"):
        study_config("began")
    config = study_config("ns")
    config.image_size = 32
    with pytest.raises(UserError, match="28x28 grayscale"):
        config_validation.validate(config)
    config = study_config("ns")
    config.d_norm = "spectral_norm"
    with pytest.raises(UserError, match="d_norm in"):
        config_validation.validate(config)
    config = study_config("ns")
    config.fid_reference = "mnsit:test"
    with pytest.raises(UserError, match="names no dataset"):
        config_validation.validate(config)


def test_created_equal_table_takes_each_runs_best_checkpoint(tmp_path):
    from jaxgan.launch import created_equal

    def score(loss, seed, step, fid):
        run = tmp_path / "mnist" / loss / f"seed={seed}" / "eval"
        run.mkdir(parents=True, exist_ok=True)
        record = {"step": step, "num_samples": 10_000, "fid": fid}
        (run / f"metrics_{step}.json").write_text(json.dumps(record))

    score("ns", 0, 100, 12.0)
    score("ns", 0, 200, 10.0)  # seed 0's best
    score("ns", 1, 100, 20.0)
    score("ns", 1, 200, 14.0)
    score("wgan", 0, 200, 30.0)
    text = created_equal.table(tmp_path)
    lines = {line.split(" | ")[0]: line for line in text.splitlines()}
    # Seeds' bests 10 and 14: mean 12, sample std 2.83, best 10.
    assert lines["| NS GAN"] == "| NS GAN | 6.8 ± 0.5 | 12.0 ± 2.8 | 10.0 | 2 | 2 | 10000 |"
    assert lines["| WGAN"] == "| WGAN | 6.7 ± 0.4 | 30.0 ±— | 30.0 | 1 | 1 | 10000 |"
    assert lines["| MM GAN"] == "| MM GAN | 9.8 ± 0.9 | — | — | 0 | — | — |"
    assert "### fashion_mnist" not in text
    with pytest.raises(UserError, match="run launch/are_gans_created_equal.sh first"):
        created_equal.table(tmp_path / "missing")
