"""SRGAN's building blocks: pixel shuffle against its definition and as the inverse of
space-to-depth, ICNR's checkerboard-free start, the nets' shapes, and PSNR / SSIM on Y
with borders cropped against scikit-image on the same arrays."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from jaxgan.families import _sr_nets
from jaxgan.metrics import super_resolution as sr


def test_pixel_shuffle_follows_pytorchs_definition():
    scale, c = 2, 3
    x = np.arange(2 * 4 * 5 * c * scale * scale, dtype=np.float32).reshape(2, 4, 5, c * 4)
    y = np.asarray(_sr_nets.pixel_shuffle(jnp.asarray(x), scale))
    assert y.shape == (2, 8, 10, c)
    for channel in range(c):
        for i in range(scale):
            for j in range(scale):
                np.testing.assert_array_equal(
                    y[:, i::scale, j::scale, channel],
                    x[..., channel * scale * scale + i * scale + j],
                )
    # Its inverse: space-to-depth in the same channel order.
    back = y.reshape(2, 4, scale, 5, scale, c).transpose(0, 1, 3, 5, 2, 4).reshape(x.shape)
    np.testing.assert_array_equal(back, x)


def test_icnr_starts_free_of_checkerboards():
    conv = _sr_nets.conv(4 * 3, 3, kernel_init=_sr_nets.icnr(2))
    x = jax.random.normal(jax.random.key(0), (1, 6, 6, 5))
    params = conv.init(jax.random.key(1), x)
    y = np.asarray(_sr_nets.pixel_shuffle(conv.apply(params, x), 2))
    phases = [y[:, i::2, j::2] for i in range(2) for j in range(2)]
    for phase in phases[1:]:
        np.testing.assert_allclose(phase, phases[0], rtol=1e-6)  # all sub-pixels equal
    plain = _sr_nets.conv(4 * 3, 3)
    z = np.asarray(_sr_nets.pixel_shuffle(plain.apply(plain.init(jax.random.key(1), x), x), 2))
    assert not np.allclose(z[:, 0::2, 0::2], z[:, 1::2, 1::2])


@pytest.mark.parametrize("scale", [2, 4])
def test_the_sr_nets_upsample_by_the_scale_and_judge_once_per_image(scale):
    # Shapes only, so abstractly (jax.eval_shape): running the nets op by op took ~10 s.
    def output_shape(net, x):
        variables = jax.eval_shape(functools.partial(net.init, train=False), jax.random.key(0), x)
        return jax.eval_shape(functools.partial(net.apply, train=False), variables, x).shape

    g = _sr_nets.SRResNet(num_channels=3, scale=scale, width=8, blocks=2)
    assert output_shape(g, jnp.zeros((2, 12, 12, 3))) == (2, 12 * scale, 12 * scale, 3)
    d = _sr_nets.SRDiscriminator(width=4)
    assert output_shape(d, jnp.zeros((2, 12 * scale, 12 * scale, 3))) == (2, 1)


def test_psnr_and_ssim_on_y_with_borders_cropped_match_scikit_image():
    rng = np.random.default_rng(0)
    target = rng.integers(0, 256, (40, 48, 3), np.uint8)
    noise = rng.integers(-20, 21, target.shape)
    output = np.clip(target.astype(int) + noise, 0, 255).astype(np.uint8)
    border = 4
    y_out = sr.luminance(output)[border:-border, border:-border]
    y_target = sr.luminance(target)[border:-border, border:-border]
    assert sr.psnr(output, target, border) == pytest.approx(
        peak_signal_noise_ratio(y_target, y_out, data_range=255), rel=1e-12
    )
    expected = structural_similarity(
        y_target,
        y_out,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=255,
    )
    assert sr.ssim(output, target, border) == pytest.approx(expected, rel=1e-12)
    # Y by hand for one pixel: MATLAB's rgb2ycbcr.
    pixel = np.array([[[200, 100, 50]]], np.uint8)
    assert sr.luminance(pixel)[0, 0] == pytest.approx(
        16 + (65.481 * 200 + 128.553 * 100 + 24.966 * 50) / 255
    )
    grey = rng.integers(0, 256, (20, 20, 1), np.uint8)
    np.testing.assert_array_equal(sr.luminance(grey), grey[..., 0])
    assert sr.psnr(target, target) == float("inf")
