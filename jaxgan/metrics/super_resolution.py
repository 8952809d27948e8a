"""PSNR and SSIM as super-resolution papers report them (Ledig et al. 2017 and the
benchmarks since): on the luminance Y of YCbCr, with `scale` pixels cropped from every
border, on 8-bit images.

Y is MATLAB's rgb2ycbcr on [0, 1] RGB: 16 + (65.481 R + 128.553 G + 24.966 B), in
[16, 235] (a grey image's Y is its pixel value itself). PSNR is 10 log10(255^2 / MSE);
SSIM is Wang et al. 2004's with an 11x11 Gaussian window (sigma 1.5), K1 0.01, K2 0.03,
L 255, averaged over the valid positions (scikit-image's structural_similarity with
gaussian_weights=True, use_sample_covariance=False, data_range=255, which the tests
compare with).
"""

import numpy as np
from scipy import ndimage

Y_WEIGHTS = np.array([65.481, 128.553, 24.966]) / 255.0


def luminance(images: np.ndarray) -> np.ndarray:
    """uint8 (..., H, W, 3 or 1) -> float64 (..., H, W) Y in [16, 235] (grey: itself)."""
    pixels = np.asarray(images, np.float64)
    if pixels.shape[-1] == 1:
        return pixels[..., 0]
    return 16.0 + pixels @ Y_WEIGHTS


def crop_border(y: np.ndarray, border: int) -> np.ndarray:
    return y[..., border : y.shape[-2] - border, border : y.shape[-1] - border] if border else y


def psnr(output: np.ndarray, target: np.ndarray, border: int = 0) -> float:
    """PSNR in dB of one uint8 image against another, on Y, borders cropped."""
    a, b = (crop_border(luminance(x), border) for x in (output, target))
    mse = np.mean((a - b) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def ssim(output: np.ndarray, target: np.ndarray, border: int = 0) -> float:
    """SSIM of one uint8 image against another, on Y, borders cropped."""
    a, b = (crop_border(luminance(x), border) for x in (output, target))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    blur = lambda x: ndimage.gaussian_filter(x, 1.5, truncate=3.5)  # noqa: E731  (11 taps)
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    )
    pad = 5  # the window's half width: positions whose window lies inside the image
    return float(index[pad:-pad, pad:-pad].mean())
