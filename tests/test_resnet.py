"""The SNGAN ResNet: shapes at 32x32, the parameter counts of the paper's layer plan,
spectral normalization on every D layer, and a step of each config."""

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.config import validation as config_validation
from jaxgan.config.loading import load_config
from jaxgan.nn import models
from jaxgan.nn.models import resnet
from jaxgan.runtime.errors import UserError
from jaxgan.training.state import create_train_state
from jaxgan.training.step import make_train_step


def count(tree) -> int:
    return sum(x.size for x in jax.tree.leaves(tree))


def conv(k, c_in, c_out):
    return k * k * c_in * c_out + c_out  # kernel and bias


def dense(n_in, n_out):
    return n_in * n_out + n_out


def expected_counts(classes=0, z=128, g=256, d=128, channels=3):
    """Appendix B.4's layer plan, every layer with a bias (the authors' code)."""
    bn = 2 * g * (classes or 1)  # per-class scale and shift under conditional BN
    g_block = 2 * bn + 2 * conv(3, g, g) + conv(1, g, g)  # BN, conv, BN, conv; shortcut
    generator = dense(z, 4 * 4 * g) + 3 * g_block + 2 * g + conv(3, g, channels)
    optimized = conv(3, channels, d) + conv(3, d, d) + conv(1, channels, d)
    down = 2 * conv(3, d, d) + conv(1, d, d)
    plain = 2 * conv(3, d, d)  # identity shortcut
    discriminator = optimized + down + 2 * plain + dense(d, 1) + classes * d  # projection
    return generator, discriminator


def variables(module, example, labels):
    init = functools.partial(module.init, train=False)
    return jax.eval_shape(init, jax.random.key(0), example, labels)


@pytest.mark.parametrize("classes", [0, 10])
def test_parameter_counts_of_the_papers_layer_plan(classes):
    g_expected, d_expected = expected_counts(classes)
    if not classes:  # SNGAN's CIFAR-10 ResNet: about 4.3M (G) and 1.1M (D) parameters
        assert (g_expected, d_expected) == (4_276_739, 1_053_825)
    labels = jnp.zeros((2,), jnp.int32) if classes else None
    g = resnet.Generator(num_classes=classes, conditional_form="projection")
    d = resnet.Discriminator(num_classes=classes, conditional_form="projection")
    g_vars = variables(g, jnp.zeros((2, 128)), labels)
    d_vars = variables(d, jnp.zeros((2, 32, 32, 3)), labels)
    assert count(g_vars["params"]) == g_expected
    assert count(d_vars["params"]) == d_expected
    # Spectral normalization on every D weight: 3 + 3 + 2 + 2 convs, the dense layer, and
    # the projection's embedding; one power-iteration state (u, sigma) each.
    sigmas = [k for k, _ in jax.tree_util.tree_leaves_with_path(d_vars["batch_stats"])]
    assert len(sigmas) == 2 * (11 + bool(classes))
    if classes:  # per-class BN scale and shift in the 3 ResBlocks, the last BN plain
        block = g_vars["params"]["GeneratorBlock_0"]
        assert block["norm1"]["scale"]["embedding"].shape == (classes, 256)
        assert g_vars["params"]["BatchNorm_0"]["scale"].shape == (256,)


@pytest.mark.parametrize("classes,form", [(0, "projection"), (10, "projection"), (10, "concat")])
def test_shapes_at_32x32(classes, form):
    g = resnet.Generator(width=16, num_classes=classes, conditional_form=form)
    d = resnet.Discriminator(width=16, num_classes=classes, conditional_form=form)
    labels = jnp.arange(3) if classes else None

    def run(z):
        g_vars = g.init(jax.random.key(1), z, labels, train=False)
        images, _ = g.apply(g_vars, z, labels, train=True, mutable=["batch_stats"])
        d_vars = d.init(jax.random.key(2), images, labels, train=False)
        logits, _ = d.apply(d_vars, images, labels, train=True, mutable=["batch_stats"])
        return images, logits

    images, logits = jax.eval_shape(run, jnp.zeros((3, 128)))
    assert images.shape == (3, 32, 32, 3) and images.dtype == jnp.float32
    assert logits.shape == (3,) and logits.dtype == jnp.float32


@pytest.mark.parametrize(
    "field,value,expected",
    [
        ("image_size", 28, "32x32"),
        ("d_norm", "batch_norm", "spectral_norm' or 'none'"),
        ("minibatch_features", "minibatch_stddev", "no mini-batch features"),
    ],
)
def test_unsupported_settings_are_refused(field, value, expected):
    config = load_config("configs/sngan_resnet.py")
    config[field] = value
    with pytest.raises(UserError, match=expected):
        config_validation.validate(config)


def test_the_configs_carry_the_papers_settings():
    config = load_config("configs/sngan_resnet.py")
    assert (config.model, config.loss, config.d_norm, config.d_steps) == (
        "resnet",
        "hinge",
        "spectral_norm",
        5,
    )
    assert (config.g_learning_rate, config.g_beta1, config.g_beta2) == (2e-4, 0.0, 0.9)
    assert (config.d_learning_rate, config.d_beta1, config.d_beta2) == (2e-4, 0.0, 0.9)
    assert (config.batch_size, config.latent_dim, config.image_size) == (64, 128, 32)
    assert (config.num_channels, config.g_width, config.d_width) == (3, 256, 128)
    assert not config.conditional
    conditional = load_config("configs/sngan_resnet.py:conditional")
    assert conditional.conditional and conditional.conditional_form == "projection"
    with pytest.raises(ValueError, match="'conditional'"):
        load_config("configs/sngan_resnet.py:64")


@pytest.mark.parametrize(
    "spec",
    # The conditional step runs every layer of the unconditional one and more.
    [
        pytest.param("configs/sngan_resnet.py", marks=pytest.mark.slow),
        "configs/sngan_resnet.py:conditional",
    ],
)
def test_a_step_of_each_config_at_tiny_widths(spec):
    config = load_config(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config_validation.validate(config)
        config_validation.warn_about_combinations(config)
    config.g_width, config.d_width, config.latent_dim = 8, 8, 16
    config.batch_size, config.d_steps = 8, 1
    config.num_classes = 10 if config.conditional else 0  # training takes it from the data
    rng = np.random.default_rng(0)
    batch = {"image": rng.uniform(-1, 1, (1, 8, 32, 32, 3)).astype(np.float32)}
    batch["label"] = rng.integers(0, 10, (1, 8)).astype(np.int32)
    state = create_train_state(config)
    step = make_train_step(config)
    for _ in range(2):
        state, metrics = step(state, batch)
    assert int(state.step) == 2
    assert all(np.isfinite(float(v)) for v in metrics.values())
    assert models.build(config)[0].num_classes == config.num_classes
