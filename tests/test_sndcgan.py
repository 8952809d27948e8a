"""The spectral-normalization paper's "standard CNN" (jaxgan/nn/models/sndcgan.py) and
configs/sngan.py:cnn: parameter counts from the references' layer lists, TensorFlow's
'SAME' sizes at odd sides, spectral norm on every D weight, and a training step."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.config import validation as config_validation
from jaxgan.config.loading import load_config
from jaxgan.nn import layers
from jaxgan.nn.models import sndcgan
from jaxgan.runtime.errors import UserError
from jaxgan.training.state import create_train_state
from jaxgan.training.step import make_train_step


def count(tree) -> int:
    return sum(x.size for x in jax.tree.leaves(tree))


def variables(module, x, key=0):
    return module.init(jax.random.key(key), x)


def test_parameter_counts_are_the_references_layers_at_32px():
    g = sndcgan.Generator(image_size=32, num_channels=3)
    d = sndcgan.Discriminator(image_size=32, num_channels=3)
    # Counted abstractly (jax.eval_shape): initialising these nets op by op took ~30 s.
    g_vars = jax.eval_shape(lambda: variables(g, jnp.zeros((2, 128))))
    d_vars = jax.eval_shape(lambda: variables(d, jnp.zeros((2, 32, 32, 3))))
    # chainer-gan-lib's DCGANGenerator(ch=512, bottom_width=4): Linear 128 -> 4*4*512,
    # BN of that vector, Deconv 4x4 512->256, 256->128, 128->64 (each + BN), Deconv 3x3
    # 64->3; every layer with a bias.
    expected_g = (128 * 8192 + 8192) + 2 * 8192
    expected_g += (16 * 512 * 256 + 256) + 2 * 256 + (16 * 256 * 128 + 128) + 2 * 128
    expected_g += (16 * 128 * 64 + 64) + 2 * 64 + (9 * 64 * 3 + 3)
    assert count(g_vars["params"]) == expected_g == 3_828_739
    # SNDCGANDiscriminator(ch=512): 3x3 3->64, 4x4 64->128, 3x3 128->128, 4x4 128->256,
    # 3x3 256->256, 4x4 256->512, 3x3 512->512, Linear 4*4*512 -> 1; biases everywhere.
    convs = [(3, 3, 64), (4, 64, 128), (3, 128, 128), (4, 128, 256), (3, 256, 256)]
    convs += [(4, 256, 512), (3, 512, 512)]
    expected_d = sum(k * k * cin * cout + cout for k, cin, cout in convs) + (16 * 512 + 1)
    assert count(d_vars["params"]) == expected_d == 5_860_865
    # Spectral norm wraps all eight weights of D (its u and sigma are state).
    sigmas = [p for p in jax.tree_util.tree_leaves_with_path(d_vars["batch_stats"])]
    assert sum("sigma" in jax.tree_util.keystr(path) for path, _ in sigmas) == 8
    # The generator's BatchNorm after the dense layer normalises the flat vector per
    # unit, as both references, not per channel after the reshape.
    assert g_vars["batch_stats"]["BatchNorm_0"]["mean"].shape == (8192,)


@pytest.mark.parametrize("size", [28, 32, 48, 64, 9])
def test_sides_and_padding_are_tensorflows_same(size):
    side = size
    for _ in range(3):
        pads = jax.lax.padtype_to_pads((side,), (4,), (2,), "SAME")
        assert sndcgan.same_padding(side) == tuple(pads[0])
        side = -(-side // 2)
    assert sndcgan.sides(size)[-1] == side


def test_odd_sides_follow_tensorflows_transposed_convolution():
    """At 28 px G goes 4 -> 7 -> 14 -> 28, each layer the input gradient of a 'SAME'
    stride-2 convolution (TensorFlow's conv2d_transpose with that output shape, as
    compare_gan's deconv2d), and D's strided layers are 'SAME' convolutions (7 -> 4)."""
    rng = np.random.default_rng(0)
    for small, large in ((4, 7), (7, 14)):
        x = jnp.asarray(rng.normal(size=(2, small, small, 3)), jnp.float32)
        tf_filter = jnp.asarray(rng.normal(size=(4, 4, 5, 3)), jnp.float32)

        def conv(y, tf_filter=tf_filter):
            return jax.lax.conv_general_dilated(
                y, tf_filter, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
            )

        _, pullback = jax.vjp(conv, jnp.zeros((2, large, large, 5)))
        (tensorflow,) = pullback(x)
        low, high = sndcgan.same_padding(large)
        up = layers.UpsampleConvTranspose(5, padding=((3 - low, 3 - high),) * 2)
        kernel = jnp.flip(tf_filter, (0, 1)).transpose(0, 1, 3, 2)
        ours = up.apply({"params": {"kernel": kernel}}, x)
        np.testing.assert_allclose(ours, tensorflow, rtol=1e-5, atol=1e-5)
    x = jnp.asarray(rng.normal(size=(2, 7, 7, 3)), jnp.float32)
    kernel = jnp.asarray(rng.normal(size=(4, 4, 3, 5)), jnp.float32)
    same = jax.lax.conv_general_dilated(
        x, kernel, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    down = layers.DownsampleConv(5, padding=(sndcgan.same_padding(7),) * 2)
    np.testing.assert_allclose(down.apply({"params": {"kernel": kernel}}, x), same, atol=1e-5)
    g = sndcgan.Generator(image_size=28, num_channels=1, width=4)
    g_vars = variables(g, jnp.zeros((2, 8)))
    images, _ = g.apply(g_vars, jnp.ones((2, 8)), mutable=["batch_stats"])
    assert images.shape == (2, 28, 28, 1)


def test_discriminator_slope_is_the_papers_leaky_relu():
    """LeakyReLU 0.1 (the paper's table, compare_gan), where chainer-gan-lib has 0.2: a
    D without spectral norm on a negative-only first layer passes 0.1 of it."""
    d = sndcgan.Discriminator(image_size=8, num_channels=1, width=1, norm="none")
    x = jnp.ones((1, 8, 8, 1))
    params = jax.tree.map(jnp.zeros_like, variables(d, x)["params"])
    # First conv: one output, weight -1 at the centre tap: every activation is -x = -1.
    params["Conv_0"]["kernel"] = params["Conv_0"]["kernel"].at[1, 1, 0, 0].set(-1.0)
    captured = d.apply({"params": params}, x, capture_intermediates=True, mutable=True)[1]
    conv0 = captured["intermediates"]["Conv_0"]["__call__"][0]
    np.testing.assert_array_equal(np.asarray(conv0), -1.0)
    # The slope is applied after it: the first strided layer sees -0.1 everywhere.
    first = params["DownsampleConv_0"]["kernel"].at[1, 1, 0, 0].set(1.0)
    params["DownsampleConv_0"]["kernel"] = first
    captured = d.apply({"params": params}, x, capture_intermediates=True, mutable=True)[1]
    strided = captured["intermediates"]["DownsampleConv_0"]["__call__"][0]
    np.testing.assert_allclose(np.asarray(strided)[0, 1:, 1:, 0], -sndcgan.LEAK * 1.0)
    assert sndcgan.LEAK == 0.1


def test_sngan_cnn_config_trains_a_step_with_spectral_norm_and_the_hinge():
    config = load_config("configs/sngan.py:cnn")
    assert (config.model, config.latent_dim, config.loss) == ("sndcgan", 128, "hinge")
    assert config.d_norm == "spectral_norm"
    config.g_width = config.d_width = 4
    config.batch_size = 8
    config_validation.validate(config)
    state = create_train_state(config)
    before = jax.device_get(state.d.params)  # the step donates the state's buffers
    images = np.random.default_rng(0).uniform(-1, 1, (1, 8, 28, 28, 1)).astype(np.float32)
    new_state, metrics = make_train_step(config)(state, {"image": images})
    assert np.isfinite(float(metrics["d_loss"])) and np.isfinite(float(metrics["g_loss"]))
    moved = jax.tree.map(
        lambda a, b: float(np.abs(a - b).max()), before, jax.device_get(new_state.d.params)
    )
    # Every D weight and bias moved but the logit's bias: its hinge gradient is
    # -(reals with D < 1) + (fakes with D > -1) over the batch, 0 while every logit is
    # inside (-1, 1) as at the start, and Adam does not move a parameter whose gradient is 0.
    output_bias = moved["Dense_0"].pop("bias")
    assert output_bias == 0.0
    assert min(jax.tree.leaves(moved)) > 0


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"d_norm": "batch_norm"}, "d_norm in"),
        ({"conditional": True}, "unconditional"),
        ({"image_size": 4}, "image_size >= 8"),
    ],
)
def test_settings_the_networks_lack_are_refused(overrides, message):
    config = load_config("configs/sngan.py:cnn")
    for key, value in overrides.items():
        config[key] = value
    with pytest.raises(UserError, match=message):
        sndcgan.check_config(config)


def test_unknown_config_options_are_refused():
    with pytest.raises(ValueError, match="takes 28, 32 and cnn"):
        load_config("configs/sngan.py:resnet")
