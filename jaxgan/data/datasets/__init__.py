"""Datasets by name: `config.dataset` is `NAME` or `NAME:ARGUMENT`, and NAME names a
module `jaxgan/data/datasets/<NAME>.py` whose `load(argument, config) -> Dataset` returns
every image of the training split in memory.

The synthetic mode-collapse benchmarks (`ring8`, `grid25`, `metz_ring`) are vector data:
their "images" are float32 points (N, D), used as they are (no resizing, no scaling).

Adding a dataset is adding such a module.
"""

import dataclasses
import importlib
import pkgutil
from types import ModuleType

import ml_collections
import numpy as np

from jaxgan.runtime.errors import UserError


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A training split in memory.

    images: uint8 (N, H, W, C), C 1 or 3; or, for vector data, float32 points (N, D).
    labels: int32 (N,) class indices, or None when the dataset has none.
    num_classes: number of classes (0 without labels).
    """

    images: np.ndarray
    labels: np.ndarray | None = None
    num_classes: int = 0

    def __post_init__(self):
        image_like = self.images.dtype == np.uint8 and self.images.ndim == 4
        vector_like = self.images.dtype == np.float32 and self.images.ndim == 2
        if not (image_like or vector_like):
            raise ValueError(
                "Dataset.images must be uint8 NHWC or float32 (N, D), got "
                f"{self.images.dtype} {self.images.shape}"
            )
        if self.labels is not None and self.labels.shape != self.images.shape[:1]:
            raise ValueError("Dataset.labels must have one label per image")

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def data_dim(self) -> int:
        """D for vector data, 0 for images."""
        return self.images.shape[1] if self.images.ndim == 2 else 0


@dataclasses.dataclass(frozen=True)
class TwoDomains:
    """Two image domains, for the image-to-image families (cyclegan).

    a, b: uint8 (N, H, W, C) training images of each domain at the size the family
      crops from (its load size); unpaired, so the two counts may differ.
    test_a, test_b: held-out uint8 images at config.image_size (may be empty): sample
      strips and evaluation use them.
    test_counterparts: test_b[i] is test_a[i]'s true translation (paired data,
      synthetic domains), so translations can be compared with the truth.
    test_labels: int32 class of each test_a (and counterpart) image, or None.
    """

    a: np.ndarray
    b: np.ndarray
    test_a: np.ndarray
    test_b: np.ndarray
    test_counterparts: bool = False
    test_labels: np.ndarray | None = None
    paired: bool = False  # a[i] and b[i] are an input and its target (pix2pix)

    def __post_init__(self):
        for name in ("a", "b", "test_a", "test_b"):
            images = getattr(self, name)
            if images.dtype != np.uint8 or images.ndim != 4:
                raise ValueError(f"TwoDomains.{name} must be uint8 NHWC, got {images.shape}")
        if self.test_counterparts and self.test_a.shape != self.test_b.shape:
            raise ValueError("TwoDomains: counterparts need test_a and test_b alike")
        if self.paired and self.a.shape != self.b.shape:
            raise ValueError("TwoDomains: paired domains need a and b alike")

    def __len__(self) -> int:
        """Images in an epoch: the larger domain's count, as the reference's dataset."""
        return max(len(self.a), len(self.b))

    data_dim = 0
    labels = None
    num_classes = 0


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def module(config: ml_collections.ConfigDict) -> ModuleType:
    """The module of config.dataset (which may define more than `load`: the 2D mixtures'
    `centres()` and `STD`, for instance)."""
    name = config.dataset.partition(":")[0]
    if name not in available():
        raise UserError(
            f"unknown dataset {config.dataset!r}: config.dataset must be one of {available()}"
        )
    return importlib.import_module(f"{__name__}.{name}")


def load(config: ml_collections.ConfigDict) -> Dataset:
    argument = config.dataset.partition(":")[2]
    return module(config).load(argument or None, config)


def count_argument(name: str, argument: str | None, default: int) -> int:
    """The N of `NAME:N` (how many samples a generated dataset draws); `default` without."""
    if argument is None:
        return default
    if not argument.isdigit() or int(argument) < 1:
        raise UserError(f"config.dataset={name}:N needs a positive count, got {argument!r}")
    return int(argument)
