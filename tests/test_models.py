import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.config.defaults import base_config
from jaxgan.config.loading import load_config
from jaxgan.nn import models
from jaxgan.nn.models import dcgan, mlp
from jaxgan.runtime.errors import UserError


def count(tree) -> int:
    return sum(x.size for x in jax.tree.leaves(tree))


@pytest.mark.parametrize("size,channels", [(28, 1), (32, 3), (64, 3), (64, 1)])
def test_dcgan_shapes_and_ranges(size, channels):
    g = dcgan.Generator(image_size=size, num_channels=channels, width=8)
    d = dcgan.Discriminator(image_size=size, num_channels=channels, width=8)

    def run(z):
        g_vars = g.init(jax.random.key(1), z, train=False)
        images, _ = g.apply(g_vars, z, train=True, mutable=["batch_stats"])
        d_vars = d.init(jax.random.key(2), images, train=False)
        logits, _ = d.apply(d_vars, images, train=True, mutable=["batch_stats"])
        return images, logits

    z = jax.random.normal(jax.random.key(0), (3, 100))
    images, logits = jax.eval_shape(run, z)
    assert images.shape == (3, size, size, channels) and images.dtype == jnp.float32
    assert logits.shape == (3,) and logits.dtype == jnp.float32
    if size == 28:  # running it takes a compile; the value range is size-independent
        images, _ = jax.jit(run)(z)
        assert 0.0 < float(jnp.max(jnp.abs(images))) <= 1.0


def test_dcgan_64_has_the_pytorch_examples_parameter_count():
    # pytorch/examples DCGAN, nz=100, ngf=ndf=64, nc=3, no conv biases:
    # G: convT 100->512 (4x4), 512->256, 256->128, 128->64, 64->3, BatchNorm on the 4 first.
    g_expected = (100 * 512 + 512 * 256 + 256 * 128 + 128 * 64 + 64 * 3) * 16 + 2 * (
        512 + 256 + 128 + 64
    )
    # D: conv 3->64, 64->128, 128->256, 256->512, 512->1 (4x4), BatchNorm on the 3 middle.
    d_expected = (3 * 64 + 64 * 128 + 128 * 256 + 256 * 512 + 512 * 1) * 16 + 2 * (128 + 256 + 512)
    assert (g_expected, d_expected) == (3_576_704, 2_765_568)
    config = load_config("configs/dcgan.py:64")
    assert (config.image_size, config.num_channels, config.latent_dim) == (64, 3, 100)
    g, d = models.build(config)
    key = jax.random.key(0)
    g_vars = jax.eval_shape(functools.partial(g.init, train=False), key, jnp.zeros((1, 100)))
    image = jnp.zeros((1, 64, 64, 3))
    d_vars = jax.eval_shape(functools.partial(d.init, train=False), key, image)
    assert count(g_vars["params"]) == g_expected
    assert count(d_vars["params"]) == d_expected
    # No conv biases anywhere; BatchNorm layers in G everywhere but the output (4),
    # in D everywhere but the first and last layers (3).
    assert not any("bias" in k for k in g_vars["params"] if not k.startswith("BatchNorm"))
    assert len(g_vars["batch_stats"]) == 4 and len(d_vars["batch_stats"]) == 3
    first = g_vars["params"]["UpsampleConvTranspose_0"]
    assert jax.tree.leaves(first)[0].shape == (4, 4, 512, 256)


def test_dcgan_initialisation_is_normal_0_02():
    g = dcgan.Generator(image_size=64, num_channels=3, width=64)
    init = jax.jit(functools.partial(g.init, train=False))
    params = init(jax.random.key(0), jnp.zeros((1, 100)))["params"]
    kernel = np.asarray(params["Dense_0"]["kernel"])
    assert abs(kernel.mean()) < 1e-3 and abs(kernel.std() - 0.02) < 1e-3
    scale = np.asarray(params["BatchNorm_0"]["scale"])
    assert abs(scale.mean() - 1.0) < 0.01 and abs(scale.std() - 0.02) < 0.005


def test_dcgan_refuses_unsupported_sizes():
    config = base_config()
    config.image_size = 48
    with pytest.raises(UserError, match="image_size"):
        dcgan.check_config(config)


def test_mlp_shapes():
    g = mlp.Generator(image_size=28, num_channels=1, width=32)
    d = mlp.Discriminator(width=16)
    z = jnp.ones((5, 10))
    images = g.apply(g.init(jax.random.key(0), z), z)
    assert images.shape == (5, 28, 28, 1)
    logits = d.apply(d.init(jax.random.key(0), images), images)
    assert logits.shape == (5,)


def test_maxout_is_the_max_over_pieces():
    layer = mlp.Maxout(units=2, pieces=3)
    x = jnp.array([[1.0, -2.0]])
    params = layer.init(jax.random.key(0), x)
    kernel, bias = params["params"]["Dense_0"]["kernel"], params["params"]["Dense_0"]["bias"]
    affine = (x @ kernel + bias).reshape(1, 2, 3)
    np.testing.assert_allclose(layer.apply(params, x), affine.max(-1), rtol=1e-6)


def test_unknown_model_is_a_clear_error():
    with pytest.raises(UserError, match="unknown model 'resnet9'.*dcgan"):
        models.get_module("resnet9")
