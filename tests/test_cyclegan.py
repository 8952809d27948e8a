"""The cyclegan family's step (jaxgan/families/cyclegan.py) and nets: the reference's
parameter counts, the PatchGAN's 70x70 receptive field, the image pool's rule against an
imperative transcription of util/image_pool.py on the same draws, the losses in closed
form for generators that output 0, and a few steps of a tiny CycleGAN."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxgan
from jaxgan.families import _image_pool, _translation_nets, cyclegan
from jaxgan.runtime.errors import UserError
from jaxgan.training.state import create_train_state
from jaxgan.training.step import make_train_step


def count(tree) -> int:
    return sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(tree))


def params_of(module, size):
    x = jnp.zeros((1, size, size, 3))
    return jax.eval_shape(lambda: module.init(jax.random.key(0), x))["params"]


def test_the_nets_have_the_reference_parameter_counts():
    """pytorch-CycleGAN-and-pix2pix prints G 11.378 M (resnet_9blocks, ngf 64) and D
    2.765 M (basic, ndf 64); by the layer arithmetic, exactly these."""
    assert count(params_of(_translation_nets.ResnetGenerator(blocks=9), 256)) == 11_378_179
    assert count(params_of(_translation_nets.ResnetGenerator(blocks=6), 128)) == 7_837_699
    assert count(params_of(_translation_nets.PatchDiscriminator(), 256)) == 2_764_737


def test_each_patch_logit_sees_70_by_70_pixels():
    d = _translation_nets.PatchDiscriminator(width=4, norm="none")  # norm couples all
    x = jax.random.normal(jax.random.key(0), (1, 128, 128, 3))
    params = jax.jit(d.init)(jax.random.key(1), x)  # jitted: op by op took ~10 s
    assert jax.eval_shape(d.apply, params, x).shape == (1, 14, 14, 1)
    grad = jax.jit(jax.grad(lambda x: d.apply(params, x)[0, 7, 7, 0]))(x)
    rows = np.nonzero(np.abs(np.asarray(grad)).sum(axis=(0, 2, 3)))[0]
    cols = np.nonzero(np.abs(np.asarray(grad)).sum(axis=(0, 1, 3)))[0]
    assert rows.max() - rows.min() + 1 == 70 and cols.max() - cols.min() + 1 == 70


def reference_pool(size, images, key):
    """util/image_pool.py's query, transcribed imperatively, on jaxgan's draws."""
    stored, returned = [], []
    for image, image_key in zip(images, jax.random.split(key, len(images)), strict=True):
        draw_key, index_key = jax.random.split(image_key)
        if len(stored) < size:
            stored.append(image)
            returned.append(image)
        elif float(jax.random.uniform(draw_key)) > 0.5:
            index = int(jax.random.randint(index_key, (), 0, size))
            returned.append(stored[index])
            stored[index] = image
        else:
            returned.append(image)
    return np.stack(returned), stored


def test_the_image_pool_follows_the_reference_rule():
    size, images = 4, np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1)
    pool = _image_pool.empty(size, (1, 1, 1))
    key = jax.random.key(3)
    first, second = jax.random.split(key)
    out1, pool = _image_pool.query(pool, jnp.asarray(images[:6]), first)
    out2, pool = _image_pool.query(pool, jnp.asarray(images[6:]), second)
    # The same rule over the two batches in turn.
    expected1, stored = reference_pool(size, images[:6], first)
    np.testing.assert_array_equal(out1, expected1)
    np.testing.assert_array_equal(out1[:4], images[:4])  # filling: passed through
    returned2 = []
    for image, image_key in zip(images[6:], jax.random.split(second, 4), strict=True):
        draw_key, index_key = jax.random.split(image_key)
        if float(jax.random.uniform(draw_key)) > 0.5:
            index = int(jax.random.randint(index_key, (), 0, size))
            returned2.append(stored[index])
            stored[index] = image
        else:
            returned2.append(image)
    np.testing.assert_array_equal(out2, np.stack(returned2))
    np.testing.assert_array_equal(pool.images, np.stack(stored))
    assert int(pool.count) == size
    swapped = [
        int(a) != int(b) for a, b in zip(np.ravel(out1[4:]), images[4:6].ravel(), strict=True)
    ]
    assert any(swapped) or not any(swapped)  # draws decide; the transcription checks them
    empty_out, _ = _image_pool.query(_image_pool.empty(0, (1, 1, 1)), jnp.asarray(images), key)
    np.testing.assert_array_equal(empty_out, images)


def tiny(**overrides):
    config = jaxgan.base_config()
    config.family, config.dataset = "cyclegan", "unpaired:/data/horse2zebra"
    config.image_size, config.num_channels, config.batch_size = 32, 3, 2
    config.g_width = config.d_width = 4
    config.cyclegan_blocks, config.cyclegan_pool_size = 1, 3
    config.g_beta1 = config.d_beta1 = 0.5
    for name, value in overrides.items():
        config[name] = value
    return config


def batch(seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.uniform(-1, 1, (1, 2, 32, 32, 3)).astype(np.float32) for _ in range(2))
    return {"a": a, "b": b}


def test_the_losses_in_closed_form_for_generators_that_output_zero():
    config = tiny()
    nets = cyclegan.build(config)
    state = create_train_state(config, jax.random.key(0))
    zero = lambda p: jax.tree.map(jnp.zeros_like, p)  # noqa: E731
    params = {}
    for name in ("g_ab", "g_ba"):
        params[name] = dict(state.nets[name].params)
        params[name]["to_image"] = zero(params[name]["to_image"])  # tanh(0): all pixels 0
    data = batch(0)
    context = jaxgan.families.Context(state, data, jax.random.key(1), 0, {})

    # Jitted: op by op, the four nets' losses took most of this test's time.
    def g_loss(config):
        return jax.jit(lambda params: cyclegan.g_loss(nets, config, params, context))

    loss, aux = g_loss(config)(params)
    a, b = data["a"][0], data["b"][0]
    m = aux.metrics
    np.testing.assert_allclose(m["cycle_a"], 10 * np.mean(np.abs(a)), rtol=1e-6)
    np.testing.assert_allclose(m["cycle_b"], 10 * np.mean(np.abs(b)), rtol=1e-6)
    np.testing.assert_allclose(m["identity_a"], 0.5 * 10 * np.mean(np.abs(a)), rtol=1e-6)
    d_b_of_zero = nets["d_b"].apply({"params": state.nets["d_b"].params}, jnp.zeros_like(a))
    np.testing.assert_allclose(
        m["g_ab_gan"], np.mean((np.asarray(d_b_of_zero) - 1) ** 2), rtol=1e-5
    )
    terms = ("g_ab_gan", "g_ba_gan", "cycle_a", "cycle_b", "identity_a", "identity_b")
    np.testing.assert_allclose(loss, sum(float(m[t]) for t in terms), rtol=1e-6)
    no_identity, aux = g_loss(tiny(cyclegan_lambda_identity=0.0))(params)
    assert "identity_a" not in aux.metrics
    np.testing.assert_allclose(no_identity, loss - m["identity_a"] - m["identity_b"], rtol=1e-6)


def test_a_tiny_cyclegan_trains_and_its_pools_fill():
    config = tiny()
    state = create_train_state(config, jax.random.key(0))
    step = make_train_step(config)
    before = jax.device_get(state.nets["d_a"].params)
    for i in range(2):
        state, metrics = step(state, batch(i))
    assert int(state.step) == 2
    for name in ("g_loss", "d_loss", "cycle_a", "d_a_loss", "d_b_loss"):
        assert np.isfinite(float(metrics[name])), name
    assert int(state.extras["pool_a"].count) == 3 and int(state.extras["pool_b"].count) == 3
    changed = jax.tree.map(lambda x, y: not np.array_equal(x, y), before, state.nets["d_a"].params)
    assert any(jax.tree.leaves(changed))


def test_settings_the_cyclegan_family_cannot_train_are_refused():
    from jaxgan.config.validation import check_family

    for size in (30, 20):
        with pytest.raises(UserError, match="multiple of 4 and >= 24"):
            check_family(tiny(image_size=size))
    with pytest.raises(UserError, match="translation_load_size=16 is smaller"):
        check_family(tiny(translation_load_size=16))
    with pytest.raises(UserError, match="cyclegan_lambda_a must be >= 0"):
        check_family(tiny(cyclegan_lambda_a=-1.0))


def test_the_learning_rate_follows_the_reference_rule_by_epoch():
    """networks.get_scheduler('linear') stepped at the end of every epoch (train.py's
    current master), with the defaults n_epochs = n_epochs_decay = 100, epoch_count 1."""
    table = {1: 1, 2: 1, 100: 1, 101: 100 / 101, 102: 99 / 101, 199: 2 / 101, 200: 1 / 101}
    for epoch, factor in table.items():
        assert float(cyclegan.linear_decay_factor(epoch, 100, 100)) == pytest.approx(factor)
    config = tiny(translation_epoch_steps=3, translation_epochs=1, translation_decay_epochs=2)
    schedule = cyclegan.learning_rate(config, 2e-4)
    # Steps 0-2 are epoch 1 (rate 2e-4), 3-5 epoch 2 (2/3 of it), 6-8 epoch 3 (1/3).
    rates = [float(schedule(step)) for step in range(9)]
    np.testing.assert_allclose(rates, np.repeat([2e-4, 2e-4 * 2 / 3, 2e-4 / 3], 3), rtol=1e-6)
    assert cyclegan.learning_rate(tiny(), 2e-4) == 2e-4
