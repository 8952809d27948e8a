"""Translating the user's image files with a trained image-to-image run: the logic of
`python -m jaxgan.translate` (see that module for the command's behaviour)."""

import pathlib

import jax
import numpy as np
import tqdm
from PIL import Image, ImageOps

from jaxgan.data.datasets import _fit, folder
from jaxgan.runtime import cli, files
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import images, tiling
from jaxgan.sampling import restore as generate

DIRECTIONS = ("AtoB", "BtoA")
# The ResNet generator halves an image twice and reflection-pads its smallest map.
MIN_SIDE = 16


def planned_files(
    source: pathlib.Path, out: pathlib.Path
) -> list[tuple[pathlib.Path, pathlib.Path]]:
    """(input, output) pairs: a file to a file, or a folder's files to the same
    relative names under `out`."""
    if not source.exists():
        raise UserError(f"--input {source} does not exist")
    if source.is_file():
        return [(source, out)]
    names = folder.list_files(source)
    if not names:
        raise UserError(f"--input {source} holds no files (names starting with . are ignored)")
    return [(source / name, out / name) for name in names]


def check_outputs(pairs, overwrite: bool) -> None:
    inputs = {source.resolve() for source, _ in pairs}
    for _, target in pairs:
        if target.resolve() in inputs:
            raise UserError(f"--out would replace the input {target}: choose another --out")
        if target.exists() and not overwrite:
            existing = sum(target.exists() for _, target in pairs)
            raise UserError(
                f"{target} exists ({existing} of the {len(pairs)} outputs do): add --overwrite "
                "to replace them, or choose another --out"
            )
        if target.suffix.lower() not in Image.registered_extensions():
            raise UserError(
                f"--out {target}: {target.suffix or 'no extension'} is not an image format"
            )


def check_image(path: pathlib.Path, min_side: int = MIN_SIDE) -> None:
    """A readable image at least min_side pixels on each side (headers only)."""
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise UserError(
            f"{path} is not an image Pillow can read ({cli.one_line(error)})"
        ) from error
    if min(width, height) < min_side:
        raise UserError(
            f"{path} is {width}x{height}: the generator needs at least {min_side} pixels a side"
        )


def read(path: pathlib.Path, channels: int) -> np.ndarray:
    """uint8 (H, W, channels), EXIF rotation applied, transparency over white."""
    with Image.open(path) as image:
        image = _fit.flatten_alpha(ImageOps.exif_transpose(image))
        pixels = np.asarray(image.convert("L" if channels == 1 else "RGB"))
    return pixels.reshape(*pixels.shape[:2], channels)


def write(path: pathlib.Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    picture = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    kind = Image.registered_extensions()[path.suffix.lower()]
    options = {"quality": 95} if kind == "JPEG" else {}
    files.write_atomically(path, lambda f: picture.save(f, format=kind, **options))


def run(
    workdir,
    source,
    out,
    direction: str = "AtoB",
    *,
    step: int | None = None,
    tile: int = 512,
    overlap: int = 64,
    overwrite: bool = False,
    command: str = "translate",
) -> list[pathlib.Path]:
    """jaxgan.translate (or, with command "upscale", jaxgan.upscale), callable from
    Python; returns the files written."""
    if direction not in DIRECTIONS:
        raise UserError(f"--direction must be one of {DIRECTIONS}, got {direction!r}")
    if tile < 1 or not 0 <= overlap < tile / 2:
        raise UserError(
            f"--tile must be positive and --overlap in [0, tile/2): got {tile} and {overlap}"
        )
    pairs = planned_files(pathlib.Path(source), pathlib.Path(out))
    restored = generate.restore(workdir, step)
    if not hasattr(restored.family, "translate"):
        raise UserError(
            f"{workdir} is a {restored.config.family} run, which generates from noise: "
            "sample it with python -m jaxgan.sample"
        )
    upscales = hasattr(restored.family, "output_scale")
    if upscales != (command == "upscale"):
        right = "jaxgan.upscale" if upscales else "jaxgan.translate"
        raise UserError(
            f"{workdir} is a {restored.config.family} run: apply it with python -m {right}"
        )
    scale = restored.family.output_scale(restored.config) if upscales else 1
    for path, _ in pairs:
        check_image(path, getattr(restored.family, "MIN_SIDE", MIN_SIDE))
    check_outputs(pairs, overwrite)
    family, nets, state = restored.family, restored.nets, restored.state
    if direction not in getattr(family, "DIRECTIONS", DIRECTIONS):
        raise UserError(
            f"{workdir} is a {restored.config.family} run, which translates "
            f"{' and '.join(family.DIRECTIONS)} only: --direction={direction} needs another run"
        )
    multiple = family.side_multiple(restored.config)
    if tile % multiple:
        raise UserError(
            f"--tile={tile}: this run's generator needs tiles of a multiple of {multiple} pixels"
        )
    # The state is an argument of the compiled function, not constants baked into it.
    apply = jax.jit(lambda state, x: family.translate(nets, state, direction, x))

    def net(x):
        return apply(state, x)

    channels = restored.config.num_channels
    what = "upscaling" if upscales else f"translating {direction}"
    for path, target in tqdm.tqdm(pairs, desc=what, unit="image"):
        pixels = read(path, channels).astype(np.float32) / 127.5 - 1.0
        translated = tiling.apply(net, pixels, tile, overlap, multiple, scale)
        write(target, images.to_uint8(translated))
    return [target for _, target in pairs]


def command_main(argv: list[str], out: str, **options) -> None:
    """The body of python -m jaxgan.translate and jaxgan.upscale: run(**options) with
    one error line and exit 2 for bad input, and a line saying what was written."""
    import sys

    from absl import app, logging

    from jaxgan.cpu import host_memory

    host_memory.keep_freed_memory()  # before JAX starts its threads
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    logging.set_verbosity(logging.ERROR)  # Orbax logs read-only restores at WARNING
    with cli.user_errors():
        written = run(out=out, **options)
    print(f"wrote {len(written)} image(s) to {out}", file=sys.stderr)
