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


def check_image(path: pathlib.Path) -> None:
    """A readable image at least MIN_SIDE pixels on each side (headers only)."""
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise UserError(
            f"{path} is not an image Pillow can read ({cli.one_line(error)})"
        ) from error
    if min(width, height) < MIN_SIDE:
        raise UserError(
            f"{path} is {width}x{height}: the generator needs at least {MIN_SIDE} pixels a side"
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
) -> list[pathlib.Path]:
    """The command, callable from Python; returns the files written."""
    if direction not in DIRECTIONS:
        raise UserError(f"--direction must be one of {DIRECTIONS}, got {direction!r}")
    if tile < MIN_SIDE or tile % 4 or not 0 <= overlap < tile // 2:
        raise UserError(
            f"--tile must be a multiple of 4 and >= {MIN_SIDE}, and --overlap in [0, tile/2): "
            f"got {tile} and {overlap}"
        )
    pairs = planned_files(pathlib.Path(source), pathlib.Path(out))
    for path, _ in pairs:
        check_image(path)
    check_outputs(pairs, overwrite)
    restored = generate.restore(workdir, step)
    if not hasattr(restored.family, "translate"):
        raise UserError(
            f"{workdir} is a {restored.config.family} run, which generates from noise: "
            "sample it with python -m jaxgan.sample"
        )
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
    net = jax.jit(lambda x: family.translate(nets, state, direction, x))
    channels = restored.config.num_channels
    for path, target in tqdm.tqdm(pairs, desc=f"translating {direction}", unit="image"):
        pixels = read(path, channels).astype(np.float32) / 127.5 - 1.0
        translated = tiling.apply(net, pixels, tile, overlap, multiple)
        write(target, images.to_uint8(translated))
    return [target for _, target in pairs]
