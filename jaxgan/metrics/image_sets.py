"""Image sets named on the command line: a folder of PNG/JPEG files or an .npz of `images`
(and, from a conditional generator, `labels`: the class each image was drawn for).

Everything about a set (readable, one size, at least two images) is checked when it is
opened, before any feature is computed. Folders are read batch by batch, so a set never
has to fit in memory twice.
"""

import dataclasses
import pathlib
import zipfile
from collections.abc import Callable, Iterator

import numpy as np
from PIL import Image, UnidentifiedImageError

from jaxgan.data.datasets import npz
from jaxgan.metrics import fid as metrics
from jaxgan.metrics.inception import FEATURE_DIM
from jaxgan.runtime.errors import UserError

EXTENSIONS = (".png", ".jpg", ".jpeg")
# PIL modes read as one grey channel; any other mode is read as RGB (alpha dropped).
GREY_MODES = ("1", "L", "LA", "I", "I;16")


@dataclasses.dataclass(frozen=True)
class ImageSet:
    path: pathlib.Path
    count: int
    shape: tuple[int, int, int]  # height, width, channels (1 or 3)
    read: Callable[[int], Iterator[np.ndarray]]  # batch size -> uint8 NHWC batches
    labels: np.ndarray | None = None  # an .npz's `labels`: image i was drawn for class labels[i]

    def describe(self) -> str:
        height, width, channels = self.shape
        return f"{self.count} images of {height}x{width}x{channels} in {self.path}"


def open_images(path: str, flag: str) -> ImageSet:
    """The set at `path`; `flag` names the option in messages (e.g. "--fake")."""
    location = pathlib.Path(path).expanduser()
    if location.is_dir():
        return _folder(location, flag)
    if location.is_file() and location.suffix == ".npz":
        names, images = _read_npz(location, flag)
        if images is None:
            what = "statistics (mu, sigma) only" if "mu" in names else "no `images` array"
            raise UserError(f"{flag} {location} holds {what}: {flag} needs images")
        return _npz_images(location, images, flag)
    if not location.exists():
        raise UserError(f"{flag} {location} does not exist")
    raise UserError(f"{flag} {location} is neither a folder of PNG/JPEG images nor an .npz file")


def open_real(path: str) -> ImageSet | metrics.FeatureStats:
    """--real: an image set, or an .npz of `mu` and `sigma` (pytorch-fid / TTUR format)."""
    location = pathlib.Path(path).expanduser()
    if location.is_file() and location.suffix == ".npz":
        names, images = _read_npz(location, "--real")
        if images is None:
            return load_stats(location)
        return _npz_images(location, images, "--real")
    return open_images(path, "--real")


def load_stats(path: str | pathlib.Path) -> metrics.FeatureStats:
    """Reference statistics of Inception features (mu (2048,), sigma (2048, 2048))."""
    stats = metrics.load_statistics(path)
    if stats.mu.shape != (FEATURE_DIM,):
        raise UserError(
            f"{path} holds statistics of {stats.mu.shape[0]}-d features; the FID Inception "
            f"network gives {FEATURE_DIM}-d ones"
        )
    return stats


def _read_npz(path: pathlib.Path, flag: str) -> tuple[list[str], np.ndarray | None]:
    """The array names of an .npz and its `images` array, if it has one."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return arrays.files, arrays["images"] if "images" in arrays.files else None
    except (AttributeError, TypeError):
        # np.load gave a bare array: the file is an .npy under another name.
        raise UserError(f"{flag} {path} holds a single array, not an .npz") from None
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise UserError(f"{flag} {path} is not a readable .npz file ({error})") from None


def _labels(path: pathlib.Path, count: int) -> np.ndarray | None:
    """A --fake .npz's `labels` (read after _read_npz could open it), if it has them:
    checked as a training set's labels are (one class index per image)."""
    with np.load(path, allow_pickle=False) as arrays:
        labels = arrays["labels"] if "labels" in arrays.files else None
    return None if labels is None else npz.checked_labels(path, labels, count)


def _npz_images(path: pathlib.Path, images: np.ndarray, flag: str) -> ImageSet:
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise UserError(
            f"{flag} {path}: `images` must be uint8 (N, H, W, 1 or 3), got "
            f"{images.dtype} {images.shape}"
        )
    _check_count(len(images), path, flag)
    # Only generated images are scored by class: a --real set's labels are not read.
    labels = _labels(path, len(images)) if flag == "--fake" else None

    def read(batch_size: int) -> Iterator[np.ndarray]:
        for start in range(0, len(images), batch_size):
            yield images[start : start + batch_size]

    return ImageSet(path, len(images), images.shape[1:], read, labels)


def _folder(path: pathlib.Path, flag: str) -> ImageSet:
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS)
    _check_count(len(files), path, flag)
    sizes, grey = {}, True
    for file in files:
        # Opening reads the header only: every file is checked before any work starts.
        try:
            with Image.open(file) as image:
                sizes.setdefault(image.size, file)
                grey = grey and image.mode in GREY_MODES
        except (OSError, UnidentifiedImageError) as error:
            raise UserError(f"{flag}: cannot read image {file} ({error})") from None
    if len(sizes) > 1:
        (size_a, file_a), (size_b, file_b) = list(sizes.items())[:2]
        raise UserError(
            f"{flag} {path} mixes image sizes: {file_a.name} is {size_a[0]}x{size_a[1]}, "
            f"{file_b.name} is {size_b[0]}x{size_b[1]}; all images of a set must be one size"
        )
    (width, height) = next(iter(sizes))
    mode = "L" if grey else "RGB"

    def read(batch_size: int) -> Iterator[np.ndarray]:
        for start in range(0, len(files), batch_size):
            batch = [_pixels(file, mode) for file in files[start : start + batch_size]]
            yield np.stack(batch).reshape(len(batch), height, width, -1)

    return ImageSet(path, len(files), (height, width, 1 if grey else 3), read)


def _pixels(file: pathlib.Path, mode: str) -> np.ndarray:
    with Image.open(file) as image:
        return np.asarray(image.convert(mode))


def _check_count(count: int, path: pathlib.Path, flag: str) -> None:
    if count == 0:
        raise UserError(f"{flag} {path} holds no images ({', '.join(EXTENSIONS)} files)")
    if count < 2:
        raise UserError(f"{flag} {path} holds 1 image: FID needs at least 2 per set")


def check_same_size(real: ImageSet | metrics.FeatureStats, fake: ImageSet) -> None:
    if isinstance(real, ImageSet) and real.shape[:2] != fake.shape[:2]:
        raise UserError(
            f"--real images are {real.shape[0]}x{real.shape[1]} but --fake images are "
            f"{fake.shape[0]}x{fake.shape[1]}: compare sets of one size"
        )
