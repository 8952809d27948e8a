"""The files of a projection (jaxgan.project): the target read and checked against the
run's image shape, and target.png, projected.png, progress.png and latent.npz written."""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image

import jaxgan
from jaxgan.metrics import inception_weights
from jaxgan.runtime import files
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import export, images, latents, projection


def read_target(path: pathlib.Path, shape: tuple[int, int, int], resize: bool) -> np.ndarray:
    """The target as uint8 (H, W, C) of the run's image shape, or a UserError naming both
    shapes."""
    try:
        with Image.open(path) as picture:
            picture.load()
    except FileNotFoundError as error:
        raise UserError(f"--target={path} does not exist") from error
    except OSError as error:
        raise UserError(f"--target={path} is not an image Pillow can read ({error})") from error
    height, width, channels = shape
    if picture.mode not in ("L", "RGB"):
        picture = picture.convert("RGBA" if "A" in picture.getbands() else "RGB")
    have = (picture.height, picture.width, len(picture.getbands()))
    if have != shape:
        if not resize:
            raise UserError(
                f"--target={path} is {have[0]}x{have[1]} with {have[2]} channel(s); the run "
                f"makes {height}x{width} images with {channels}: pass --resize to resize and "
                "convert it, or give an image of that shape"
            )
        picture = picture.convert("L" if channels == 1 else "RGB")
        picture = picture.resize((width, height), Image.Resampling.LANCZOS)
    pixels = np.asarray(picture, np.uint8)
    return pixels[..., None] if pixels.ndim == 2 else pixels


def run(
    workdir,
    target,
    out,
    *,
    step=None,
    seed=0,
    label=None,
    resize=False,
    overwrite=False,
    settings: projection.Settings | None = None,
) -> pathlib.Path:
    """The command, callable from Python; returns the --out folder."""
    out, target = pathlib.Path(out), pathlib.Path(target)
    settings = settings or projection.Settings()
    if settings.steps < 1:
        raise UserError(f"--steps must be a positive integer, got {settings.steps}")
    if not settings.learning_rate > 0:
        raise UserError(f"--learning_rate must be positive, got {settings.learning_rate}")
    if settings.feature_weight < 0:
        raise UserError(f"--feature_weight must be >= 0, got {settings.feature_weight}")
    export.check_free(out, "dir", overwrite)
    generator = jaxgan.load_generator(workdir, step)
    if generator.config.data_dim:
        raise UserError(f"{workdir} generates {generator.config.data_dim}-D points, not images")
    prior = latents.distribution(generator.config)
    if prior != "normal":
        raise UserError(
            f"{workdir}'s latents are {prior}: jaxgan.project searches Gaussian latents only"
        )
    labels = None
    if generator.num_classes:
        if label is None or not 0 <= label < generator.num_classes:
            raise UserError(
                f"a conditional run needs --label, a class in [0, {generator.num_classes - 1}]"
            )
        labels = jnp.array([label], jnp.int32)
    elif label is not None:
        raise UserError("--label is for conditional runs: this run is unconditional")
    shape = jax.eval_shape(generator, jnp.zeros((1, generator.latent_dim)), labels).shape[1:]
    pixels = read_target(target, tuple(shape), resize)
    features = None
    if settings.feature_weight > 0:
        features = projection.inception_features(jax.device_put(inception_weights.load_params()))
    goal = jnp.asarray(pixels, jnp.float32)[None] / 127.5 - 1.0
    result = projection.project(generator, goal, jax.random.key(seed), settings, features, labels)
    out.mkdir(parents=True, exist_ok=True)
    images.save_png(out / "target.png", pixels)
    images.save_png(out / "projected.png", images.to_uint8(result.image)[0])
    strip = np.concatenate([pixels[None], images.to_uint8(result.snapshots)])
    images.save_png(out / "progress.png", images.grid(strip, columns=len(strip)))
    record = {
        "workdir": str(workdir),
        "checkpoint_step": generator.step,
        "target": str(target),
        "seed": seed,
        "label": label,
        "snapshot_steps": result.snapshot_steps.tolist(),
        **{name: value for name, value in vars(settings).items()},
    }
    files.save_npz(
        out / "latent.npz",
        z=result.z,
        **{f"loss_{name}": values for name, values in result.losses.items()},
        **{f"final_{name}": np.float32(value) for name, value in result.final.items()},
        settings=np.array(json.dumps(record)),
    )
    return out
