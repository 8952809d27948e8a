"""Your own images: `folder:PATH` is every PNG, JPEG and WebP image under PATH.

The folder is read recursively; names starting with '.' (files and folders, such as
.DS_Store or .ipynb_checkpoints) are left out, as `ls` does. Each image is made square
(largest centred square, resized bicubic to `config.image_size`), grey or RGB as
`config.num_channels` says (transparency is composited over white, EXIF rotation is
applied).

Decoding happens once: the arrays are cached in `<cache>/folder-<name>-<key>.npz` (see
_cache.py for the folder), keyed by the relative path, size and modification time of
every file and by the image size and channels, so editing the folder decodes it again.

A file that is not a readable PNG, JPEG or WebP image is an error naming it; with
`config.folder_skip_bad_files` such files are left out and counted on every load.
With `config.folder_labels`, the first-level sub-folders are the classes (sorted by
name, numbered from 0), as in PATH/cat/1.png, PATH/dog/2.jpg.
"""

import concurrent.futures
import hashlib
import json
import os
import pathlib
import sys
from collections.abc import Sequence

import ml_collections
import numpy as np
import tqdm
from PIL import Image, ImageOps

from jaxgan.data.datasets import Dataset, _cache, _fit
from jaxgan.runtime.errors import UserError
from jaxgan.runtime.files import save_npz

FORMATS = {"PNG", "JPEG", "WEBP"}
# Modes of 8-bit images; 16-bit and float images would be clipped by a conversion.
MODES = {"1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "YCbCr"}
# Bump when decoding changes, so old cache files are not reused.
CACHE_VERSION = 1


class BadImage(Exception):
    """A file that is not a readable 8-bit PNG, JPEG or WebP image."""


def list_files(root: pathlib.Path) -> list[str]:
    """Every non-hidden file under root, as sorted paths relative to it."""
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
        relative = pathlib.Path(directory).relative_to(root)
        found += [(relative / name).as_posix() for name in files if not name.startswith(".")]
    return sorted(found)


def cache_key(
    root: pathlib.Path, files: Sequence[str], image_size: int, num_channels: int, squash=False
) -> str:
    """A hash of the file list with sizes and modification times, and the output shape."""
    listing = []
    for name in files:
        try:
            stat = (root / name).stat()
        except OSError as error:  # e.g. a broken symbolic link
            raise UserError(f"cannot read {root / name}: {error.strerror}") from error
        listing.append([name, stat.st_size, stat.st_mtime_ns])
    record = [CACHE_VERSION, image_size, num_channels, listing] + (["squash"] if squash else [])
    return hashlib.sha256(json.dumps(record).encode()).hexdigest()[:24]


def decode_image(
    path: pathlib.Path, image_size: int, num_channels: int, squash: bool = False
) -> np.ndarray:
    """uint8 (image_size, image_size, num_channels): the largest centred square resized,
    or with `squash` the whole image resized to a square, aspect ignored (as the
    image-to-image references load theirs); raises BadImage saying why not."""
    fit = _fit.squash if squash else _fit.square
    # JPEG: decode at the smallest power-of-two reduction still >= image_size.
    pixels = decoded_pixels(
        path, num_channels, lambda image: fit(image, image_size), draft=image_size
    )
    return pixels.reshape(image_size, image_size, num_channels)


def decoded_pixels(source, num_channels: int, fit, draft: int | None = None) -> np.ndarray:
    """`fit(image)` of the image in `source` (a path or a binary file), EXIF rotation
    applied, transparency over white, grey or RGB as num_channels says; raises BadImage
    saying why not."""
    try:
        with Image.open(source) as image:
            if image.format not in FORMATS:
                raise BadImage(f"is a {image.format} image, not PNG, JPEG or WebP")
            if image.mode not in MODES:
                raise BadImage(f"has pixel mode {image.mode}: only 8-bit images are supported")
            if draft:
                image.draft(None, (draft, draft))
            image = _fit.flatten_alpha(ImageOps.exif_transpose(image))
            image = image.convert("L" if num_channels == 1 else "RGB")
            return np.asarray(fit(image))
    except Image.UnidentifiedImageError as error:
        raise BadImage("is not an image Pillow can read") from error
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        # Truncated or corrupt data (OSError, or SyntaxError for a broken PNG chunk).
        raise BadImage(f"cannot be decoded ({error})") from error


def decode_one(path: pathlib.Path, image_size: int, num_channels: int, squash: bool = False):
    """(pixels, None) or (None, why not): errors as values, to collect them all."""
    try:
        return decode_image(path, image_size, num_channels, squash), None
    except BadImage as error:
        return None, str(error)


def decode_folder(
    root: pathlib.Path,
    files: Sequence[str],
    image_size: int,
    num_channels: int,
    skip_bad: bool,
    squash: bool = False,
) -> dict[str, np.ndarray]:
    """Decodes every file, on a thread per core (Pillow decodes without the GIL), with
    a progress bar. Stops at the first bad file unless skip_bad."""
    images, kept, skipped = [], [], []
    with (
        concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool,
        tqdm.tqdm(total=len(files), desc=f"decoding {root}", unit="image") as progress,
    ):
        results = pool.map(
            lambda name: decode_one(root / name, image_size, num_channels, squash), files
        )
        for name, (pixels, problem) in zip(files, results, strict=True):
            progress.update()
            if problem is None:
                images.append(pixels)
                kept.append(name)
                continue
            if not skip_bad:
                pool.shutdown(cancel_futures=True)
                raise UserError(bad_file_message(root, name, problem))
            skipped.append(f"{name}: {problem}")
    shape = (0, image_size, image_size, num_channels)
    return {
        "images": np.stack(images) if images else np.zeros(shape, np.uint8),
        "paths": np.array(kept, dtype=str),
        "skipped": np.array(skipped, dtype=str),
    }


def bad_file_message(root: pathlib.Path, name: str, problem: str) -> str:
    return (
        f"{root / name} {problem}: remove it, or set config.folder_skip_bad_files=True "
        "to leave such files out"
    )


def class_labels(
    root: pathlib.Path,
    paths: Sequence[str],
    option: str = "config.folder_labels=True",
    all_paths: Sequence[str] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """int32 labels from the first-level sub-folder of each path, and the class names
    (those of `all_paths` when given: classes keep their numbers when some files are
    left out). `option` names the setting that asked for labels, in the error."""
    everything = list(paths) if all_paths is None else list(all_paths)
    classes = [name.split("/")[0] if "/" in name else None for name in everything]
    if None in classes:
        stray = everything[classes.index(None)]
        raise UserError(
            f"{root / stray} is not in a class sub-folder: with {option} every image must "
            f"be under {root}/<class>/"
        )
    names = sorted(set(classes))
    classes = [name.split("/")[0] for name in paths]
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[c] for c in classes], np.int32), names


def decoded(
    root: pathlib.Path,
    config: ml_collections.ConfigDict,
    image_size: int | None = None,
    squash: bool = False,
) -> dict[str, np.ndarray]:
    """The folder's decoded arrays (at image_size, config.image_size by default), from
    the cache when it has them."""
    image_size = image_size or config.image_size
    files = list_files(root)
    if not files:
        raise UserError(
            f"{root} holds no files (names starting with . are ignored): put PNG, JPEG or "
            "WebP images in it"
        )
    key = cache_key(root, files, image_size, config.num_channels, squash)
    path = _cache.writable_dir() / f"folder-{root.name}-{key}.npz"
    arrays = _cache.read(path)
    if arrays is None:
        arrays = decode_folder(
            root, files, image_size, config.num_channels, config.folder_skip_bad_files, squash
        )
        save_npz(path, **arrays)
    return arrays


def existing_folder(path: str, what: str, hint: str = "check config.dataset") -> pathlib.Path:
    """The absolute path of a folder that must exist; `what` names it in the error, `hint`
    says what to give instead."""
    root = pathlib.Path(path).expanduser().absolute()
    if not root.is_dir():
        problem = "is not a folder" if root.exists() else "does not exist"
        raise UserError(f"{what} {root} {problem}: {hint}")
    return root


def readable_images(
    root: pathlib.Path,
    config: ml_collections.ConfigDict,
    image_size: int | None = None,
    squash: bool = False,
) -> dict[str, np.ndarray]:
    """decoded(), with the bad files refused (or, with config.folder_skip_bad_files,
    counted on the console) and an empty result refused."""
    arrays = decoded(root, config, image_size, squash)
    skipped = arrays["skipped"]
    if len(skipped) and not config.folder_skip_bad_files:
        # Cached by a run that skipped them: still never dropped silently.
        name, _, problem = str(skipped[0]).partition(": ")
        raise UserError(bad_file_message(root, name, problem))
    if len(skipped):
        print(
            f"jaxgan: skipped {len(skipped)} of {len(skipped) + len(arrays['paths'])} files "
            f"in {root} that are not readable images (first: {skipped[0]})",
            file=sys.stderr,
        )
    if not len(arrays["paths"]):
        raise UserError(f"{root} holds no readable PNG, JPEG or WebP image")
    return arrays


def load(argument: str | None, config: ml_collections.ConfigDict) -> Dataset:
    if not argument:
        raise UserError("config.dataset=folder:PATH needs the folder's path after 'folder:'")
    root = existing_folder(
        argument, "the image folder", "give --config.dataset=folder:DIR, a folder of images"
    )
    arrays = readable_images(root, config)
    if not config.folder_labels:
        return Dataset(images=arrays["images"])
    labels, names = class_labels(root, list(arrays["paths"]))
    return Dataset(images=arrays["images"], labels=labels, num_classes=len(names))
