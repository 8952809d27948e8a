"""The ssgan family (jaxgan/families/ssgan.py): compare_gan's rotation batch and
cross-entropy, the head on average-pooled features, D's and G's losses as the base GAN's
plus the weighted rotation terms, and with both weights 0 the base GAN bit for bit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxgan
from jaxgan.families import gan, ssgan
from jaxgan.runtime.errors import UserError
from jaxgan.training.state import create_train_state
from jaxgan.training.step import make_train_step
from tests.conftest import tiny


def small(**overrides):
    """configs/ssgan.py made narrow: 16-channel ResNets, batch 4, 2 D steps."""
    config = jaxgan.load_config("configs/ssgan.py")
    config.g_width = config.d_width = 16
    config.batch_size, config.latent_dim, config.d_steps = 4, 8, 2
    config.rotated_batch_size = 8  # n = 2: the last 2 images in 4 rotations
    for name, value in overrides.items():
        config[name] = value
    return config


def batch(config, seed=0):
    shape = (config.d_steps, config.batch_size, 32, 32, 3)
    return {"image": np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)}


def test_the_rotation_batch_is_the_last_n_images_turned_as_compare_gan_turns_them():
    # A 2x2 image [[a, b], [c, d]]: compare_gan's 90 degrees is flip_up_down(transpose),
    # [[b, d], [a, c]]; 180 is [[d, c], [b, a]]; 270 is transpose(flip_up_down), [[c, a],
    # [d, b]].
    images = np.arange(3 * 4, dtype=np.float32).reshape(3, 2, 2, 1)  # image i: 4i + [0..3]
    rotated, classes = ssgan.rotation_batch(jnp.asarray(images), n=2)
    a, b, c, d = 4, 5, 6, 7  # image 1, the first of the last two
    expected_first = [[[a, b], [c, d]], [[b, d], [a, c]], [[d, c], [b, a]], [[c, a], [d, b]]]
    rotated = np.asarray(rotated)[..., 0]
    np.testing.assert_array_equal(rotated[0::2], expected_first)
    np.testing.assert_array_equal(rotated[1::2], rotated[0::2] + 4)  # image 2, turned alike
    np.testing.assert_array_equal(classes, [0, 0, 1, 1, 2, 2, 3, 3])


def test_the_rotation_cross_entropy_is_compare_gans():
    logits = jnp.array([[0.0, 0.0, 0.0, 0.0], [2.0, 0.0, 0.0, -1.0]])
    classes = jnp.array([1, 0])
    p = np.exp([2.0, 0, 0, -1]) / np.exp([2.0, 0, 0, -1]).sum()
    expected = -(np.log(0.25 + 1e-10) + np.log(p[0] + 1e-10)) / 2
    np.testing.assert_allclose(ssgan.rotation_cross_entropy(logits, classes), expected, rtol=1e-6)


def test_the_rotation_head_reads_the_average_pooled_final_features():
    config = small(d_norm="none")
    d = ssgan.build(config)["d"]
    x = jnp.asarray(batch(config)["image"][0])
    variables = d.init(jax.random.key(0), x)
    logits, captured = d.apply(
        variables, x, rotations=True, capture_intermediates=True, mutable=["intermediates"]
    )
    features = captured["intermediates"]["DiscriminatorBlock_3"]["__call__"][0]
    head = variables["params"]["rotation_head"]
    expected = jnp.mean(jax.nn.relu(features), axis=(1, 2)) @ head["kernel"] + head["bias"]
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)
    assert logits.shape == (4, 4) and float(np.std(head["kernel"])) == pytest.approx(0.02, rel=0.3)


def test_ds_and_gs_losses_add_the_weighted_rotation_terms_to_the_base_gans():
    config = small()
    nets = ssgan.build(config)
    state = create_train_state(config, jax.random.key(0))
    real = jnp.asarray(batch(config)["image"][0])
    fake = jnp.asarray(batch(config, seed=1)["image"][0])
    d_params, collections = state.d.params, state.d.collections
    keys = (jax.random.key(2), jax.random.key(3))

    def rotation_loss(images):
        tail = np.asarray(images)[-2:]
        turned = np.concatenate([np.rot90(tail, k, axes=(1, 2)) for k in range(4)])
        variables = {"params": d_params, **collections}
        logits, _ = nets["d"].apply(
            variables, jnp.asarray(turned), rotations=True, mutable=list(collections)
        )
        log_p = np.log(np.asarray(jax.nn.softmax(logits), np.float64) + 1e-10)
        return -np.mean(log_p[np.arange(8), np.repeat(np.arange(4), 2)])

    base = gan.Objectives(config, nets)
    with_rotation = ssgan.Objectives(config, nets)
    gan_total, gan_aux = base.d_objective(d_params, collections, real, fake, (None, None), keys)
    total, aux = with_rotation.d_objective(d_params, collections, real, fake, (None, None), keys)
    np.testing.assert_allclose(total, gan_total + 1.0 * rotation_loss(real), rtol=1e-5)
    np.testing.assert_allclose(aux[-1]["d_rotation_loss"], rotation_loss(real), rtol=1e-5)
    # D's collections are those of the GAN pass alone: the rotation pass's are dropped.
    jax.tree.map(np.testing.assert_array_equal, aux[0], gan_aux[0])

    handoff = {"fake_labels": None, "real_logits": gan_aux[3]}
    g_base, _ = base.g_objective(d_params, collections, fake, handoff, keys[0])
    g_loss, (_, extra) = with_rotation.g_objective(d_params, collections, fake, handoff, keys[0])
    np.testing.assert_allclose(g_loss, g_base + 0.2 * rotation_loss(fake), rtol=1e-5)
    assert set(extra) == {"g_rotation_loss", "g_rotation_accuracy"}


def without_head(tree):
    """D's parameters or collections without the rotation head's entries."""
    flat = flax_flatten(tree)
    return {k: v for k, v in flat.items() if not any("rotation_head" in part for part in k)}


def flax_flatten(tree):
    from flax.traverse_util import flatten_dict

    return flatten_dict(jax.device_get(tree))


def test_with_both_weights_zero_the_step_is_the_base_gans_bit_for_bit():
    config = small(rotation_weight_d=0.0, rotation_weight_g=0.0)
    base_config = small(family="gan")
    for field in ("rotation_weight_d", "rotation_weight_g", "rotated_batch_size"):
        base_config[field] = jaxgan.base_config()[field]
    states, metrics = [], []
    for c in (config, base_config):
        state = create_train_state(c, jax.random.key(0))
        step = make_train_step(c)
        for i in range(2):
            state, m = step(state, batch(c, seed=i))
        states.append(jax.device_get(state))
        metrics.append(jax.device_get(m))
    ss, base = states
    jax.tree.map(np.testing.assert_array_equal, ss.g.params, base.g.params)
    jax.tree.map(np.testing.assert_array_equal, ss.g.collections, base.g.collections)
    jax.tree.map(np.testing.assert_array_equal, ss.ema, base.ema)
    for tree in ("params", "collections"):
        ss_d, base_d = without_head(getattr(ss.d, tree)), flax_flatten(getattr(base.d, tree))
        assert ss_d.keys() == base_d.keys()
        for key in base_d:
            np.testing.assert_array_equal(ss_d[key], base_d[key], err_msg=str(key))
    for name, value in metrics[1].items():
        np.testing.assert_array_equal(metrics[0][name], value, err_msg=name)
    assert metrics[0].keys() == metrics[1].keys()  # no rotation pass at all


def test_the_default_ssgan_trains_its_rotation_head():
    config = small()
    state = create_train_state(config, jax.random.key(0))
    before = jax.device_get(state.d.params["rotation_head"]["kernel"])
    state, metrics = make_train_step(config)(state, batch(config))
    assert np.isfinite(float(metrics["d_rotation_loss"])) and np.isfinite(float(metrics["g_loss"]))
    assert not np.array_equal(before, jax.device_get(state.d.params["rotation_head"]["kernel"]))
    # Spectral normalisation covers the head: its power-iteration vector is D's state.
    assert any("rotation_head" in "/".join(k) for k in flax_flatten(state.d.collections))


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(data_dim=2, model="mlp"), "rotation loss needs images"),
        (dict(model="dcgan"), "rotation head is on the ResNet discriminator"),
        (dict(rotated_batch_size=6), "multiple of 4"),
        (dict(rotated_batch_size=20), "at most 4 x batch_size"),
        (dict(rotation_weight_g=-1.0), "rotation_weight_g must be >= 0"),
        (dict(unroll_steps=2), "does not combine with config.unroll_steps"),
    ],
)
def test_settings_the_ssgan_family_cannot_train_are_refused(overrides, message):
    from jaxgan.config.validation import check_family

    with pytest.raises(UserError, match=message):
        check_family(small(**overrides))


def test_rotation_settings_are_refused_under_the_gan_family():
    from jaxgan.config.validation import check_family

    with pytest.raises(UserError, match="rotation_weight_g=0.5 is a setting of the ssgan"):
        check_family(tiny(rotation_weight_g=0.5))
