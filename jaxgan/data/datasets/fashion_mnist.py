"""Fashion-MNIST (Xiao et al. 2017): 60k training and 10k test 28x28 grey images of
clothes in 10 classes, read from its IDX files.

`fashion_mnist` is the training split, `fashion_mnist:test` the test split. The files are
those Debian's package `dataset-fashion-mnist` installs in /usr/share/datasets/fashion-mnist
(`train-images-idx3-ubyte.gz` ...); `config.data_dir` names another folder holding them,
gzipped or not.
"""

import pathlib

import ml_collections
import numpy as np

from jaxgan.data.datasets import Dataset
from jaxgan.data.datasets._idx import read_idx
from jaxgan.runtime.errors import UserError

DEFAULT_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")
INSTALL = "sudo apt-get install dataset-fashion-mnist"
PREFIXES = {"train": "train", "test": "t10k"}


def find_file(directory: pathlib.Path, name: str) -> pathlib.Path:
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
    raise UserError(
        f"Fashion-MNIST's {name}.gz is not in {directory}: install it with `{INSTALL}` "
        "(Debian/Ubuntu), or set config.data_dir to a folder holding the IDX files"
    )


def load_split(directory: pathlib.Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (N, 28, 28, 1) and int32 labels (N,) of a split's IDX files."""
    prefix = PREFIXES[split]
    images_path = find_file(directory, f"{prefix}-images-idx3-ubyte")
    labels_path = find_file(directory, f"{prefix}-labels-idx1-ubyte")
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise UserError(
            f"{images_path} must hold uint8 (N, H, W) images, got {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise UserError(
            f"{labels_path} must hold one label per image of {images_path} ({len(images)}), "
            f"got shape {labels.shape}"
        )
    if labels.size and not 0 <= labels.min() <= labels.max() <= 9:
        raise UserError(f"{labels_path} has labels outside 0..9")
    return images[..., None], labels.astype(np.int32)


def load(argument: str | None, config: ml_collections.ConfigDict) -> Dataset:
    split = argument or "train"
    if split not in PREFIXES:
        raise UserError(f"Fashion-MNIST has splits {sorted(PREFIXES)}, got {split!r}")
    directory = pathlib.Path(config.data_dir or DEFAULT_DIR).expanduser()
    images, labels = load_split(directory, split)
    return Dataset(images=images, labels=labels, num_classes=10)
