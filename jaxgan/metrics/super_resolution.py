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

METRICS = ("psnr", "ssim", "psnr_bicubic", "ssim_bicubic", "fid_bicubic")
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
    if min(a.shape) < 11:
        raise ValueError(f"SSIM's 11x11 window needs 11x11 pixels after cropping, got {a.shape}")
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


DEFAULT_NUM_IMAGES = 10_000  # test images scored (all of a 10k test split)


def evaluation_images(config, num_images: int | None) -> tuple[np.ndarray, str]:
    """(uint8 high-resolution images at image_size, where they come from): the split
    config.fid_reference names (e.g. fashion_mnist:test), else the training data."""
    from jaxgan.data import datasets, pipeline

    split = config.get("fid_reference") or config.dataset
    reference = config.copy_and_resolve_references()
    reference.dataset = split
    images = datasets.load(reference).images[: num_images or DEFAULT_NUM_IMAGES]
    images = pipeline.fit_images(images, config.image_size, config.num_channels)
    where = (
        split
        if config.get("fid_reference")
        else f"{split} (the training data: set config.fid_reference to a test split)"
    )
    return images, where


def record(restored, num_images: int | None = None, features=None, batch_size: int = 100) -> dict:
    """PSNR and SSIM (Y, `scale` border pixels cropped) of the run's super-resolution of
    bicubic downscalings of the evaluation images, beside bicubic upscaling's; with
    `features` (the FID network), FID and KID of each against the originals."""
    import jax

    from jaxgan.data import pipeline
    from jaxgan.metrics import featurize, scoring
    from jaxgan.sampling.images import to_uint8

    config, family = restored.config, restored.family
    scale = family.output_scale(config)
    high, where = evaluation_images(config, num_images)
    low = family.downscale(high, scale)
    bicubic = family.upscale_bicubic(low, scale)
    apply = jax.jit(lambda state, x: family.translate(restored.nets, state, "AtoB", x))
    outputs = []
    for start in range(0, len(low), batch_size):
        batch = pipeline.scaled(low[start : start + batch_size], config.num_channels)
        outputs.append(to_uint8(jax.device_get(apply(restored.state, batch))))
    output = np.concatenate(outputs)
    scores = {"step": restored.step, "num_images": len(high)}
    for name, images in (("", output), ("_bicubic", bicubic)):
        scores[f"psnr{name}"] = float(
            np.mean([psnr(x, y, scale) for x, y in zip(images, high, strict=True)])
        )
        crop = config.image_size - 2 * scale
        scores[f"ssim{name}"] = (
            float(np.mean([ssim(x, y, scale) for x, y in zip(images, high, strict=True)]))
            if crop >= 11
            else None  # the window does not fit
        )
    if features is not None:
        meter = featurize.Meter(3 * len(high))
        try:
            real, fake, base = (
                featurize.features_of(
                    (images[i : i + batch_size] for i in range(0, len(images), batch_size)),
                    len(images),
                    features,
                    batch_size,
                    meter,
                )
                for images in (high, output, bicubic)
            )
        finally:
            meter.close()
        for name, side in (("", fake), ("_bicubic", base)):
            values, _ = scoring.score(side, real)
            scores[f"fid{name}"], scores[f"kid{name}"] = values["fid"], values["kid"]
    scores["protocol"] = {
        "images": (
            f"{len(high)} images of {where} at {config.image_size} px, downscaled x{scale} "
            "(bicubic)"
        ),
        "psnr_ssim": f"on Y (MATLAB's rgb2ycbcr), {scale} border pixels cropped, mean over images",
        "fid": "FID and KID of the outputs (and of bicubic upscaling) against the originals"
        if features is not None
        else "not computed",
    }
    return scores
