"""Datasets by name: `config.dataset` is `NAME` or `NAME:ARGUMENT`, and NAME names a
module `jaxgan/datasets/<NAME>.py` whose `load(argument, config) -> Dataset` returns
every image of the training split in memory.

Adding a dataset is adding such a module.
"""

import dataclasses
import importlib
import pkgutil

import ml_collections
import numpy as np

from jaxgan.errors import UserError


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A training split in memory.

    images: uint8 (N, H, W, C), C 1 or 3.
    labels: int32 (N,) class indices, or None when the dataset has none.
    num_classes: number of classes (0 without labels).
    """

    images: np.ndarray
    labels: np.ndarray | None = None
    num_classes: int = 0

    def __post_init__(self):
        if self.images.dtype != np.uint8 or self.images.ndim != 4:
            raise ValueError(
                f"Dataset.images must be uint8 NHWC, got {self.images.dtype} {self.images.shape}"
            )
        if self.labels is not None and self.labels.shape != self.images.shape[:1]:
            raise ValueError("Dataset.labels must have one label per image")

    def __len__(self) -> int:
        return self.images.shape[0]


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def load(config: ml_collections.ConfigDict) -> Dataset:
    name, _, argument = config.dataset.partition(":")
    if name not in available():
        raise UserError(
            f"unknown dataset {config.dataset!r}: config.dataset must be one of {available()}"
        )
    return importlib.import_module(f"{__name__}.{name}").load(argument or None, config)
