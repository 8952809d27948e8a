"""Where generated images go: a folder of PNG files, one .npz, one PNG (a grid or an
interpolation strip) or a video (an interpolation), written atomically and never over
the user's files unasked."""

import os
import pathlib

import numpy as np

from jaxgan.runtime import files
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import images, video


def output_kind(out: pathlib.Path, grid: bool, interpolate: bool) -> str:
    """'png' (one image: a grid, or an interpolation strip), 'video' (.gif or .mp4: an
    interpolation), 'npz' or 'dir' (one PNG per image), from --out's suffix."""
    suffix = pathlib.Path(out).suffix.lower()
    if suffix in video.SUFFIXES:
        if not interpolate or grid:
            raise UserError(
                f"--out={out} is a video of a latent walk: add --interpolate (without --grid)"
            )
        return "video"
    if suffix == ".png":
        if not (grid or interpolate):
            raise UserError(
                f"--out={out} is one PNG: add --grid (all samples in one image), or give a "
                "folder (one PNG per sample) or an .npz"
            )
        return "png"
    if grid:
        raise UserError(f"--grid writes one PNG: give --out=NAME.png, not {out}")
    return "npz" if suffix == ".npz" else "dir"


def check_free(out: pathlib.Path, kind: str, overwrite: bool) -> None:
    """Refuses an output that would replace the user's files without --overwrite, or
    that cannot be written; reads only."""
    out = pathlib.Path(out)
    if kind == "dir":
        if out.exists() and not out.is_dir():
            raise UserError(f"--out={out} is a file, not a folder: choose a folder path")
        if out.is_dir() and any(out.iterdir()) and not overwrite:
            raise UserError(
                f"--out={out} exists and is not empty: choose a new folder, or pass "
                "--overwrite to write into it (files of the same names are replaced)"
            )
    else:
        if out.is_dir():
            raise UserError(f"--out={out} is a folder: give a {kind} file's path")
        if out.exists() and not overwrite:
            raise UserError(f"--out={out} exists: choose another name, or pass --overwrite")
    # Files are renamed into their folder, so that folder (or its nearest existing
    # ancestor, where it will be made) must be writable.
    folder = (out if kind == "dir" else out.parent).absolute()
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        raise UserError(f"--out={out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"--out={out}: {existing} is not writable")


def write_pngs(directory: pathlib.Path, start: int, pixels: np.ndarray) -> None:
    """uint8 images as DIRECTORY/<start + i>.png (six digits), each atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    for offset, image in enumerate(pixels):
        images.save_png(directory / f"{start + offset:06d}.png", image)


def write_npz(path: pathlib.Path, pixels: np.ndarray, labels: np.ndarray | None = None) -> None:
    """uint8 (N, H, W, C) as `images` in an .npz, atomically, with a conditional G's
    `labels` (image i's class), which `jaxgan.evaluate --fake` scores by class accuracy."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"images": pixels} if labels is None else {"images": pixels, "labels": labels}
    files.save_npz(path, **arrays)


def write_grid(path: pathlib.Path, pixels: np.ndarray, columns: int | None = None) -> None:
    """uint8 images tiled into one PNG (square-ish by default; columns=N for a strip)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    images.save_png(path, images.grid(pixels, columns))
