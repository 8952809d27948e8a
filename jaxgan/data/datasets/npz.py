"""Arrays you prepared: `npz:PATH` is an .npz file (np.savez) holding

  images  uint8 (N, H, W) or (N, H, W, C), C 1 or 3;
  labels  optional, integers (N,) in 0..K-1, K classes (K = the largest label + 1).

Images not at `config.image_size` are resized by the input pipeline, which stretches
non-square images: crop them first. Pickled (object) arrays are refused.
"""

import pathlib
import zipfile

import ml_collections
import numpy as np

from jaxgan.data.datasets import Dataset
from jaxgan.runtime.errors import UserError


def read_arrays(path: pathlib.Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        problem = "is not a file" if path.exists() else "does not exist"
        raise UserError(f"the npz dataset {path} {problem}: check config.dataset")
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise UserError(f"{path} is not a readable .npz file ({error})") from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise UserError(f"{path} is one .npy array, not an .npz: save np.savez(path, images=...)")
    try:
        with archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        # A damaged member, or a pickled (object) array, which allow_pickle=False refuses.
        raise UserError(f"{path} has an array that cannot be read ({error})") from error


def checked_images(path: pathlib.Path, images: np.ndarray) -> np.ndarray:
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or not images.shape[0]:
        raise UserError(
            f"{path}: 'images' must be (N, H, W) or (N, H, W, C) with N >= 1 and C 1 or 3, "
            f"got shape {images.shape}"
        )
    if images.dtype != np.uint8:
        raise UserError(
            f"{path}: 'images' must be uint8 (0..255), got {images.dtype}: convert it, e.g. "
            "np.rint(x * 255).astype(np.uint8) for values in [0, 1]"
        )
    return images


def checked_labels(path: pathlib.Path, labels: np.ndarray, num_images: int) -> np.ndarray:
    if not np.issubdtype(labels.dtype, np.integer) or labels.shape != (num_images,):
        raise UserError(
            f"{path}: 'labels' must be integers of shape ({num_images},), one per image, got "
            f"{labels.dtype} {labels.shape}"
        )
    if labels.min() < 0 or labels.max() > np.iinfo(np.int32).max:
        raise UserError(
            f"{path}: 'labels' must be class indices 0..K-1, got {labels.min()}..{labels.max()}"
        )
    return labels.astype(np.int32)


def load(argument: str | None, config: ml_collections.ConfigDict) -> Dataset:
    del config
    if not argument:
        raise UserError("config.dataset=npz:PATH needs the .npz file's path after 'npz:'")
    path = pathlib.Path(argument).expanduser()
    arrays = read_arrays(path)
    if "images" not in arrays:
        raise UserError(f"{path} has no 'images' array, only {sorted(arrays)}")
    images = checked_images(path, arrays["images"])
    if "labels" not in arrays:
        return Dataset(images=images)
    labels = checked_labels(path, arrays["labels"], len(images))
    return Dataset(images=images, labels=labels, num_classes=int(labels.max()) + 1)
