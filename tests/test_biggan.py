"""configs/biggan.py: the networks of BigGAN-PyTorch's CIFAR-10 script, by parameter
count (the reference's G and D instantiated with CPU torch at the script's settings:
G 4,304,387 and D 4,207,361), and one training step."""

import jax
import numpy as np
import pytest

import jaxgan
from jaxgan.training.state import create_train_state
from jaxgan.training.step import make_train_step


def count(tree) -> int:
    return sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(tree))


def test_the_networks_have_the_reference_parameter_counts():
    config = jaxgan.load_config("configs/biggan.py")
    config.num_classes = 10  # CIFAR-10's; the training loop resolves it from the data
    state = jax.eval_shape(lambda: create_train_state(config, jax.random.key(0)))
    assert count(state.g.params) == 4_304_387
    assert count(state.d.params) == 4_207_361
    # Spectral normalisation in both nets: its vectors are state, not parameters.
    assert "batch_stats" in state.d.collections and "batch_stats" in state.g.collections


def test_a_narrow_biggan_trains_a_step():
    config = jaxgan.load_config("configs/biggan.py")
    config.num_classes, config.g_width, config.d_width, config.batch_size = 10, 16, 16, 4
    state = create_train_state(config, jax.random.key(0))
    images = np.random.default_rng(0).uniform(-1, 1, (4, 4, 32, 32, 3)).astype(np.float32)
    labels = np.random.default_rng(1).integers(0, 10, (4, 4)).astype(np.int32)
    state, metrics = make_train_step(config)(state, {"image": images, "label": labels})
    assert int(state.step) == 1 and np.isfinite(float(metrics["g_loss"]))
    assert set(state.ema) == {"g", "g__collections"}  # ema_collections


def test_biggans_initialisation_draws_its_distributions():
    """resnet_init='biggan': weights N(0, 0.02), biases U(+-1/sqrt(fan_in)) (PyTorch's
    default), class gains 1 + N(0, 0.02), class biases and the projection N(0, 0.02)."""
    config = jaxgan.load_config("configs/biggan.py")
    config.num_classes = 10
    state = create_train_state(config, jax.random.key(0))
    g, d = jax.device_get(state.g.params), jax.device_get(state.d.params)
    # Spectral norm on: its parameters are the raw draws (normalization.SpectralNorm).
    block = g["GeneratorBlock_1"]
    for weights in (block["conv1"]["kernel"], g["Dense_0"]["kernel"], d["Dense_0"]["kernel"]):
        assert abs(float(np.std(weights)) - 0.02) < 0.002 and abs(float(np.mean(weights))) < 0.002
    bias, bound = block["conv1"]["bias"], 1 / np.sqrt(256 * 9)
    assert float(np.abs(bias).max()) <= bound and float(np.abs(bias).max()) > 0.9 * bound
    assert abs(float(np.std(bias)) - bound / np.sqrt(3)) < 0.15 * bound / np.sqrt(3)  # uniform
    gains = block["norm1"]["scale"]["embedding"]
    assert abs(float(np.mean(gains)) - 1) < 0.002 and abs(float(np.std(gains)) - 0.02) < 0.002
    embedding = d["Projection_0"]["Embed_0"]["embedding"]
    assert abs(float(np.std(embedding)) - 0.02) < 0.003
    # The output BatchNorm keeps gain 1 and bias 0, as PyTorch's BatchNorm2d.
    np.testing.assert_array_equal(g["BatchNorm_0"]["scale"], 1)


def weights_by_path(params) -> dict[str, np.ndarray]:
    """Every weight matrix or table (ndim >= 2) of a parameter tree, by its path."""
    return {
        jax.tree_util.keystr(path): np.asarray(leaf)
        for path, leaf in jax.tree_util.tree_leaves_with_path(params)
        if leaf.ndim >= 2
    }


def test_the_64_px_config_initialises_every_weight_orthogonally_as_the_scripts_ortho():
    """resnet_init='biggan_ortho' (configs/biggan.py:64 and :128): every conv, linear and
    embedding weight of G and D -- attention, the shared embedding, the conditional
    BatchNorms' linear layers and the projection included -- flattened to (fan_in, out)
    has orthonormal columns (or rows, when out > fan_in), as torch's orthogonal_
    (BigGAN-PyTorch's --G_init ortho --D_init ortho); biases stay PyTorch's default."""
    config = jaxgan.load_config("configs/biggan.py:64")
    config.num_classes, config.g_width, config.d_width = 10, 8, 8
    assert config.resnet_init == "biggan_ortho"
    state = create_train_state(config, jax.random.key(0))
    for net, params in (("g", state.g.params), ("d", state.d.params)):
        weights = weights_by_path(jax.device_get(params))
        # G's attention sits at 64 px; D's 64-px table has none (BigGAN-PyTorch's too).
        assert any("theta" in path for path in weights) == (net == "g")
        assert any("shared" in path or "Projection" in path for path in weights)
        for path, w in weights.items():
            matrix = w.reshape(-1, w.shape[-1])
            small = min(matrix.shape)
            gram = matrix.T @ matrix if matrix.shape[0] >= matrix.shape[1] else matrix @ matrix.T
            np.testing.assert_allclose(gram, np.eye(small), atol=2e-5, err_msg=f"{net} {path}")
    bias = jax.device_get(state.g.params)["GeneratorBlock_0"]["conv1"]["bias"]
    assert 0 < float(np.abs(bias).max()) <= 1 / np.sqrt(16 * 8 * 9)


def test_the_n02_style_reaches_attention_and_every_table():
    """resnet_init='biggan' (BigGAN-PyTorch's N02) draws attention's 1x1 convolutions and
    the shared embedding from N(0, 0.02) too, as init_weights does for every module."""
    config = jaxgan.load_config("configs/biggan.py:64")
    config.num_classes, config.g_width, config.d_width = 10, 8, 8
    config.resnet_init = "biggan"
    state = create_train_state(config, jax.random.key(0))
    weights = weights_by_path(jax.device_get(state.g.params))
    attention = np.concatenate([w.ravel() for p, w in weights.items() if "SelfAttention" in p])
    assert attention.size > 100 and abs(float(np.std(attention)) - 0.02) < 0.004
    shared = weights["['shared']['embedding']"]
    assert abs(float(np.std(shared)) - 0.02) < 0.004


def test_the_joint_pass_is_the_two_passes_for_a_stateless_d_and_steps_spectral_norm_once():
    from jaxgan.families import gan
    from jaxgan.nn import models
    from tests.conftest import tiny

    real = np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)).astype(np.float32)
    fake = np.random.default_rng(1).uniform(-1, 1, (8, 28, 28, 1)).astype(np.float32)
    keys = (jax.random.key(2), jax.random.key(3))
    results = {}
    for norm in ("none", "spectral_norm"):
        for joint in (False, True):
            config = tiny(d_norm=norm, d_joint_pass=joint)
            nets = dict(zip(("g", "d"), models.build(config), strict=True))
            state = create_train_state(config, jax.random.key(0))
            objectives = gan.Objectives(config, nets)
            d_loss_and_grads = jax.jit(jax.value_and_grad(objectives.d_objective, has_aux=True))
            (loss, aux), grads = d_loss_and_grads(
                state.d.params, state.d.collections, real, fake, (None, None), keys
            )
            results[norm, joint] = (loss, grads, aux[0], state.d.collections)
    # Without state in D, one pass over [fakes; reals] is the two passes.
    (loss2, grads2, _, _), (loss1, grads1, _, _) = results["none", False], results["none", True]
    np.testing.assert_allclose(loss1, loss2, rtol=1e-6)
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6), grads1, grads2
    )
    # With spectral norm, the joint pass advances each power iteration once, as one apply
    # does; the two passes advance it twice.
    config = tiny(d_norm="spectral_norm")
    _, discriminator = models.build(config)
    start = results["spectral_norm", True][3]
    params = create_train_state(config, jax.random.key(0)).d.params
    _, once = discriminator.apply(
        {"params": params, **start}, real, train=True, mutable=list(start)
    )
    leaves = lambda tree: jax.tree.leaves(tree)  # noqa: E731
    for a, b in zip(leaves(results["spectral_norm", True][2]), leaves(once), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    two = leaves(results["spectral_norm", False][2])
    assert any(not np.allclose(a, b) for a, b in zip(two, leaves(once), strict=True))


def test_the_128_px_nets_have_the_reference_parameter_counts():
    """configs/biggan.py:128 at 1000 classes, and the 32-px nets with a shared embedding
    and hierarchical latents: BigGAN-PyTorch's G and D counted with CPU torch at the same
    settings (I128: G_ch = D_ch = 96, dim_z 120, shared_dim 128, hier, attention at 64;
    CIFAR with --G_shared --hier --shared_dim 128)."""
    config = jaxgan.load_config("configs/biggan.py:128")
    config.num_classes = 1000
    state = jax.eval_shape(lambda: create_train_state(config, jax.random.key(0)))
    assert count(state.g.params) == 70_433_988
    assert count(state.d.params) == 87_982_370
    config = jaxgan.load_config("configs/biggan.py")
    config.num_classes, config.biggan_shared_dim, config.biggan_hierarchical = 10, 128, True
    state = jax.eval_shape(lambda: create_train_state(config, jax.random.key(0)))
    assert count(state.g.params) == 4_373_251
    # z's first chunk (128 / 4 = 32 numbers) feeds the input layer; each block's
    # BatchNorms map [shared embedding (128), its chunk (32)].
    assert state.g.params["Dense_0"]["kernel"].shape == (32, 4 * 4 * 256)
    gain = state.g.params["GeneratorBlock_2"]["norm2"]["gain"]["kernel"]
    assert gain.shape == (160, 256)


def test_the_shared_conditional_batchnorm_is_one_plus_gain_times_the_normalised_input():
    import jax.numpy as jnp

    from jaxgan.nn.conditioning import LinearConditionalBatchNorm

    x = jax.random.normal(jax.random.key(0), (6, 2, 2, 3)) * 3 + 1
    c = jax.random.normal(jax.random.key(1), (6, 5))
    layer = LinearConditionalBatchNorm()
    variables = layer.init(jax.random.key(2), x, c)
    out, _ = layer.apply(variables, x, c, mutable=["batch_stats"])
    gain = np.asarray(c) @ np.asarray(variables["params"]["gain"]["kernel"])
    bias = np.asarray(c) @ np.asarray(variables["params"]["bias"]["kernel"])
    xs = np.asarray(x, np.float64)
    normalised = (xs - xs.mean((0, 1, 2))) / np.sqrt(xs.var((0, 1, 2)) + 1e-5)
    expected = normalised * (1 + gain[:, None, None]) + bias[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    assert float(jnp.std(variables["params"]["gain"]["kernel"])) == pytest.approx(0.02, rel=0.5)


def test_every_chunk_of_a_hierarchical_z_reaches_the_image():
    from jaxgan.nn import models

    config = jaxgan.load_config("configs/biggan.py:64")
    config.num_classes, config.g_width, config.d_width, config.attention_resolution = 3, 8, 8, 0
    generator, _ = models.build(config)
    z = jax.random.normal(jax.random.key(0), (2, 120))
    labels = np.array([0, 2], np.int32)
    variables = jax.jit(generator.init)(jax.random.key(1), z, labels)

    def image_sum(z):
        out, _ = generator.apply(variables, z, labels, mutable=["batch_stats"])
        return out.sum()

    # Jitted, as everywhere else: op by op, this G's init and gradient took ~30 s.
    gradient = jax.jit(jax.grad(image_sum))(z)
    per_chunk = np.abs(np.asarray(gradient)).reshape(2, 5, 24).sum(axis=(0, 2))
    assert (per_chunk > 0).all(), per_chunk  # the input's chunk and one per block


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            dict(latent_dim=100),
            "cuts z into 6 equal chunks at 128 px: config.latent_dim=100 does not divide; use 96",
        ),
        (dict(biggan_shared_dim=0), "set config.biggan_shared_dim"),
        (dict(image_size=96), r"BigGAN nets are for \[32, 64, 128\] px"),
        (dict(attention_resolution=4), "attention_resolution must be 0"),
        (dict(model="resnet", image_size=32), "biggan_shared_dim is for model='biggan'"),
    ],
)
def test_bad_biggan_settings_are_refused_naming_the_fix(overrides, message):
    from jaxgan.config.validation import validate

    config = jaxgan.load_config("configs/biggan.py:128")
    for name, value in overrides.items():
        config[name] = value
    with pytest.raises(jaxgan.UserError, match=message):
        validate(config)
