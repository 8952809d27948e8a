"""DiffAugment: each transform's documented effect, its gradient, the policies, and G's
gradient in the fused step flowing through the augmentation."""

import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxgan
from jaxgan.families import gan as gan_family
from jaxgan.objectives import diffaugment
from jaxgan.runtime.errors import UserError
from jaxgan.training.state import create_train_state
from jaxgan.training.step import make_train_step
from tests.conftest import tiny

KEY = jax.random.key(3)


def images(shape=(6, 8, 8, 3), seed=0):
    return jax.random.uniform(jax.random.key(seed), shape, minval=-1.0, maxval=1.0)


def distinct_nonzero(shape):
    """1, 2, 3, ...: every pixel identifiable, none zero."""
    return jnp.arange(1, np.prod(shape) + 1, dtype=jnp.float32).reshape(shape)


def test_brightness_shifts_each_image_by_one_amount_in_half_a_unit():
    x = images()
    shift = np.asarray(jax.jit(diffaugment.brightness)(x, KEY) - x)
    per_image = shift.reshape(6, -1)
    np.testing.assert_allclose(per_image, per_image[:, :1] * np.ones_like(per_image), atol=1e-6)
    assert np.all(np.abs(per_image[:, 0]) <= 0.5) and len(set(per_image[:, 0])) == 6


def test_saturation_keeps_each_pixels_channel_mean_and_leaves_grey_alone():
    x = images()
    out = np.asarray(jax.jit(diffaugment.saturation)(x, KEY))
    np.testing.assert_allclose(out.mean(-1), np.asarray(x).mean(-1), atol=1e-6)
    # (out - m) = s (x - m) with one s in [0, 2) per image.
    centred_in, centred_out = [a - np.asarray(x).mean(-1, keepdims=True) for a in (x, out)]
    s = (centred_out / centred_in).reshape(6, -1)
    np.testing.assert_allclose(s, s[:, :1] * np.ones_like(s), rtol=1e-3)
    assert np.all((s[:, 0] >= 0) & (s[:, 0] < 2))
    grey = images((6, 8, 8, 1))
    np.testing.assert_allclose(jax.jit(diffaugment.saturation)(grey, KEY), grey, atol=1e-6)


def test_contrast_keeps_each_images_mean_and_scales_around_it():
    x = np.asarray(images())
    out = np.asarray(jax.jit(diffaugment.contrast)(jnp.asarray(x), KEY))
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3), keepdims=True), mean, atol=1e-6)
    c = ((out - mean) / (x - mean)).reshape(6, -1)
    np.testing.assert_allclose(c, c[:, :1] * np.ones_like(c), rtol=1e-3)
    assert np.all((c[:, 0] >= 0.5) & (c[:, 0] < 1.5))


def test_translation_is_a_zero_filled_shift_of_at_most_an_eighth():
    x = distinct_nonzero((16, 16, 16, 1))
    out = np.asarray(jax.jit(diffaugment.translation)(x, KEY))
    shifts = set()
    for n in range(16):
        matches = []
        for dy, dx in itertools.product(range(-2, 3), repeat=2):  # 16 / 8 = 2 pixels
            padded = np.pad(np.asarray(x[n, :, :, 0]), 2)
            expected = padded[2 - dy : 18 - dy, 2 - dx : 18 - dx]
            if np.array_equal(out[n, :, :, 0], expected):
                matches.append((dy, dx))
        assert len(matches) == 1, f"image {n} is not a zero-filled shift by <= 2 pixels"
        shifts.add(matches[0])
    assert len(shifts) > 4  # shifts are drawn per image


def test_translation_and_cutout_gradients_are_exactly_the_kept_pixels():
    x = distinct_nonzero((4, 8, 8, 2))
    for transform in (diffaugment.translation, diffaugment.cutout):
        out, vjp = jax.jit(lambda x, t=transform: jax.vjp(lambda x: t(x, KEY), x))(x)
        grad = np.asarray(vjp(jnp.ones_like(out))[0])
        # Each input pixel lands in at most one output pixel, unchanged: its gradient is
        # 1 if it is still in the image, else 0.
        kept = np.isin(np.asarray(x), np.asarray(out))
        np.testing.assert_array_equal(grad, kept.astype(np.float32))
        assert 0 < kept.mean() < 1


def test_cutout_zeroes_one_square_of_half_the_side_cut_by_the_border_at_most_by_half():
    x = distinct_nonzero((32, 8, 8, 1))
    zeros = np.asarray(jax.jit(diffaugment.cutout)(x, KEY))[..., 0] == 0
    for mask in zeros:
        rows, cols = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
        # A rectangle of 2..4 rows and columns (4 = 8 / 2; at least half inside).
        assert np.array_equal(mask, np.outer(mask.any(1), mask.any(0)))
        for extent in (rows, cols):
            assert 2 <= len(extent) <= 4 and np.all(np.diff(extent) == 1)
            if len(extent) < 4:
                assert extent[0] == 0 or extent[-1] == 7  # cut only by the border
    assert len({mask.tobytes() for mask in zeros}) > 10  # positions drawn per image


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "color,translation,cutout"])
def test_every_policy_is_differentiable_and_keeps_the_shape(policy):
    x = images((4, 16, 16, 3))
    augment = diffaugment.make(policy)

    @jax.jit
    def run(x, key):
        out, vjp = jax.vjp(lambda x: augment(x, key), x)
        return out, vjp(2 * out)[0]  # the gradient of sum(out ** 2)

    out, grad = run(x, KEY)
    assert out.shape == x.shape
    assert np.all(np.isfinite(grad)) and np.any(grad != 0)
    np.testing.assert_array_equal(run(x, KEY)[0], out)
    assert not np.array_equal(run(x, jax.random.key(4))[0], out)


def test_the_empty_policy_is_the_identity_and_unknown_names_are_refused():
    x = images()
    assert diffaugment.make("")(x, KEY) is x
    assert diffaugment.parse(" color , cutout ") == ["color", "cutout"]
    with pytest.raises(UserError, match=r"unknown \['flip'\]"):
        diffaugment.parse("color,flip")


def test_g_gradient_in_the_fused_step_flows_through_the_augmentation():
    """The fused step equals a plain two-pass update in which every D input is
    augmented with the step's keys; G's gradient is taken through the augmentation."""
    config = tiny(
        model="mlp", g_width=16, d_width=8, d_norm="none", diffaugment="color,translation,cutout"
    )
    state = create_train_state(config)
    real = np.random.default_rng(0).uniform(-1, 1, (1, 16, 28, 28, 1)).astype(np.float32)
    generator, discriminator = jaxgan.nn.models.build(config)
    g_tx, d_tx = jaxgan.training.state.optimizers(config)
    loss_fn = jaxgan.objectives.losses.get(config.loss)
    augment = diffaugment.make(config.diffaugment)

    def reference(state, real):
        key = jax.random.fold_in(jax.random.wrap_key_data(state.key), state.step)
        z = jax.random.normal(jax.random.fold_in(jax.random.split(key, 3)[0], 0), (16, 16))
        augment_key = jax.random.fold_in(key, gan_family.AUGMENT_STREAM)
        d_key = jax.random.fold_in(jax.random.fold_in(augment_key, gan_family.AUGMENT_D), 0)
        real_key, fake_key = jax.random.split(d_key)
        g_key = jax.random.fold_in(augment_key, gan_family.AUGMENT_G)

        def d_logits(params, x, key):
            return discriminator.apply({"params": params}, augment(x, key))

        def d_loss(params, fake):
            return loss_fn(d_logits(params, real, real_key), d_logits(params, fake, fake_key))[0]

        fake = generator.apply({"params": state.g.params}, z)
        updates, _ = d_tx.update(jax.grad(d_loss)(state.d.params, fake), state.d.opt_state)
        d_params = jax.tree.map(lambda p, u: p + u, state.d.params, updates)
        real_logits = d_logits(state.d.params, real, real_key)  # as in D's update

        def g_loss(params):
            fake = generator.apply({"params": params}, z)
            return loss_fn(real_logits, d_logits(d_params, fake, g_key))[1]

        updates, _ = g_tx.update(jax.grad(g_loss)(state.g.params), state.g.opt_state)
        return jax.tree.map(lambda p, u: p + u, state.g.params, updates), d_params

    expected_g, expected_d = jax.jit(reference)(state, real[0])
    new_state, _ = make_train_step(config)(state, {"image": real})
    chex.assert_trees_all_close(new_state.d.params, expected_d, atol=1e-6, rtol=1e-5)
    chex.assert_trees_all_close(new_state.g.params, expected_g, atol=1e-6, rtol=1e-5)
