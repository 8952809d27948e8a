"""Generates images from a trained run:

  python -m jaxgan.sample --workdir=runs/dcgan --num=1000 --out=samples/
  python -m jaxgan.sample --workdir=runs/dcgan --num=64 --grid --out=grid.png
  python -m jaxgan.sample --workdir=runs/dcgan --num=10 --interpolate --out=strip.png
  python -m jaxgan.sample --workdir=runs/dcgan --interpolate --frames=120 --fps=30 --out=walk.mp4
  python -m jaxgan.sample --workdir=runs/cgan --num=64 --label=3 --out=threes.npz

--out decides the form: a folder gets one PNG per image (000000.png, ...), an .npz gets
uint8 `images` (N, H, W, C) and, from a conditional run, `labels` (each image's class:
what `jaxgan.evaluate --fake=X.npz --real=fashion_mnist:test` scores by class accuracy),
a .png gets one picture (with --grid or --interpolate), a .gif or .mp4 the frames of
--interpolate as a video (MP4 needs `pip install imageio-ffmpeg`), enlarged so the
shorter side is at least 256 px.
Image i of a --seed has the same latent for any --num or --batch_size, and the same
command gives the same files; with `sample_with_running_stats` False (BatchNorm on the
batch itself) an image also depends on the other images of its batch. G's parameters are
the checkpoint's moving average (`g_ema`) when the state has one, else G's own. An existing --out is
refused unless --overwrite.

A conditional run's images are of class --label, or by default of every class in turn
(image i of class i mod num_classes; a --grid then has one column per class);
--interpolate needs --label.
"""

import functools
import math
import pathlib
import sys
from collections.abc import Callable

import jax
import ml_collections
import numpy as np
from absl import app, flags, logging

from jaxgan.cpu import host_memory
from jaxgan.runtime import cli, sharding
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import export, latents, video
from jaxgan.sampling import restore as generate
from jaxgan.sampling import sampler as sampling

DEFAULT_VIDEO_FRAMES = 120  # 4 s at the default 30 fps

_WORKDIR = flags.DEFINE_string("workdir", None, "Directory of a trained run.", required=True)
_OUT = flags.DEFINE_string("out", None, "Output: a folder, an .npz or a .png.", required=True)
_STEP = flags.DEFINE_integer("step", None, "Checkpoint step to sample from (default: latest).")
_NUM = flags.DEFINE_integer("num", 64, "Number of images (of the strip's with --interpolate).")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the latents.")
_GRID = flags.DEFINE_bool("grid", False, "Write all images as one grid PNG.")
_INTERPOLATE = flags.DEFINE_bool(
    "interpolate", False, "Images along the slerp path between two latents of --seed."
)
_TRUNCATION = flags.DEFINE_float(
    "truncation",
    None,
    "Truncation trick: latent components drawn from N(0,1) cut to [-T, T]; for a stylegan2 "
    "run, psi: w moved to w_avg + psi (w - w_avg).",
)
_TRUNCATION_CUTOFF = flags.DEFINE_integer(
    "truncation_cutoff", None, "stylegan2 runs: truncate only the first N of G's ws."
)
_FRAMES = flags.DEFINE_integer(
    "frames",
    None,
    "Points on the --interpolate path (default: --num for a .png or .npz, "
    f"{DEFAULT_VIDEO_FRAMES} for a video).",
)
_FPS = flags.DEFINE_float("fps", 30.0, "Frames per second of a .gif or .mp4.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Write over an existing --out.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 128, "Images per step, over all devices.")
_LABEL = flags.DEFINE_integer(
    "label", None, "Class of every image (conditional runs); default: every class in turn."
)


def check_numbers(num: int, batch_size: int, truncation: float | None, interpolate: bool):
    if num < (2 if interpolate else 1):
        raise UserError(f"--num must be >= {2 if interpolate else 1}, got {num}")
    if batch_size < 1:
        raise UserError(f"--batch_size must be a positive integer, got {batch_size}")
    if truncation is not None and not truncation > 0:
        raise UserError(f"--truncation must be positive, got {truncation}")


def label_function(
    config: ml_collections.ConfigDict, label: int | None, interpolate: bool
) -> Callable[[jax.Array], jax.Array] | None:
    """indices -> classes for a conditional run's G (None for an unconditional one)."""
    if not config.conditional:
        if label is not None:
            raise UserError("--label is for conditional runs: this run is unconditional")
        return None
    if label is None and interpolate:
        raise UserError("--interpolate of a conditional run needs --label: the class of the path")
    if label is not None and not 0 <= label < config.num_classes:
        raise UserError(f"--label must be a class in [0, {config.num_classes - 1}], got {label}")
    return functools.partial(sampling.class_labels, num_classes=config.num_classes, label=label)


def run(
    workdir: str | pathlib.Path,
    out: str | pathlib.Path,
    num: int = 64,
    *,
    seed: int = 0,
    step: int | None = None,
    grid: bool = False,
    interpolate: bool = False,
    truncation: float | None = None,
    overwrite: bool = False,
    batch_size: int = 128,
    label: int | None = None,
    frames: int | None = None,
    fps: float = 30.0,
    truncation_cutoff: int | None = None,
) -> pathlib.Path:
    """The command, callable from Python; returns the path written."""
    out = pathlib.Path(out)
    kind = export.output_kind(out, grid, interpolate)
    if frames is not None:
        if not interpolate:
            raise UserError("--frames is the length of an --interpolate path: add --interpolate")
        if frames < 2:
            raise UserError(f"--frames must be >= 2 (the path's two ends), got {frames}")
        num = frames
    elif kind == "video":
        num = DEFAULT_VIDEO_FRAMES
    check_numbers(num, batch_size, truncation, interpolate)
    if not fps > 0:
        raise UserError(f"--fps must be positive, got {fps}")
    export.check_free(out, kind, overwrite)
    if kind == "video":
        video.check_encoder(out)
    mesh = sharding.data_mesh()
    devices = mesh.devices.size
    # No bigger than needed, and a multiple of the devices so rows split evenly.
    batch_size = min(batch_size, math.ceil(num / devices) * devices)
    if batch_size % devices:
        raise UserError(f"--batch_size={batch_size} must be a multiple of the {devices} devices")
    restored = generate.restore_generator(workdir, step, mesh)
    generate.check_generates_from_noise(restored, workdir)
    if restored.config.data_dim:
        raise UserError(
            f"{workdir} generates {restored.config.data_dim}-D points, not images: see its "
            "samples/scatter_<step>.png, or score it with python -m jaxgan.evaluate"
        )
    labels = label_function(restored.config, label, interpolate)
    latent_dim, key = restored.config.latent_dim, jax.random.key(seed)
    prior = latents.distribution(restored.config)
    # A family that truncates inside G (stylegan2: towards w_avg) takes it as G's options.
    generator_options = {}
    truncate_in_g = getattr(restored.family, "truncation_options", None)
    if truncation_cutoff is not None and truncation is None:
        raise UserError("--truncation_cutoff limits --truncation: give --truncation=PSI too")
    if truncation_cutoff is not None and truncate_in_g is None:
        raise UserError(
            f"--truncation_cutoff is for stylegan2 runs; {workdir} is a "
            f"{restored.config.family} run"
        )
    if truncate_in_g is not None and truncation is not None:
        generator_options = truncate_in_g(restored.config, truncation, truncation_cutoff)
        truncation = None
    if truncation is not None and prior != "normal":
        raise UserError(f"--truncation is for Gaussian latents: this run's prior is {prior}")
    if interpolate:
        latent_fn = latents.rows
        latent_input = latents.interpolation(key, num, latent_dim, truncation, prior)
    else:
        latent_fn = functools.partial(
            latents.gaussian, latent_dim=latent_dim, truncation=truncation, distribution=prior
        )
        latent_input = key
    sample = sampling.make_sampler(
        restored.generator, restored.config.sample_with_running_stats, generator_options
    )
    stream = generate.batches(
        sample, restored.net, latent_fn, latent_input, num, batch_size, mesh, labels
    )
    if kind == "dir":
        for start, pixels in stream:
            export.write_pngs(out, start, pixels)
        return out
    pixels = np.concatenate([p for _, p in stream])
    if kind == "npz":
        classes = None if labels is None else np.asarray(labels(np.arange(len(pixels))))
        export.write_npz(out, pixels, classes)
    elif kind == "video":
        video.write(out, pixels, fps)
    else:
        columns = None
        if interpolate:
            columns = num
        elif labels is not None and label is None:
            columns = restored.config.num_classes  # every class in turn: one per column
        export.write_grid(out, pixels, columns=columns)
    return out


def main(argv):
    host_memory.keep_freed_memory()  # before JAX starts its threads
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    logging.set_verbosity(logging.WARNING)  # Orbax logs every restore at INFO
    with cli.user_errors():
        written = run(
            _WORKDIR.value,
            _OUT.value,
            _NUM.value,
            seed=_SEED.value,
            step=_STEP.value,
            grid=_GRID.value,
            interpolate=_INTERPOLATE.value,
            truncation=_TRUNCATION.value,
            overwrite=_OVERWRITE.value,
            batch_size=_BATCH_SIZE.value,
            label=_LABEL.value,
            # An explicit --num is the walk's length for a video too.
            frames=_FRAMES.value
            if _FRAMES.value is not None or not (_NUM.present and _INTERPOLATE.value)
            else _NUM.value,
            fps=_FPS.value,
            truncation_cutoff=_TRUNCATION_CUTOFF.value,
        )
    print(f"wrote {written}", file=sys.stderr)


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)
