"""Reference features of a dataset split, computed once and cached.

The real images go through the path training takes (`input_pipeline.fit_images`: resized
to the config's image_size and converted to its channels); Inception's preprocessing then
repeats grey to RGB. Cached under `jaxgan.runtime.cache.cache_dir()/reference/`, keyed
by dataset, split, image size, channels and number of images:

  <key>.npz           mu, sigma: the pytorch-fid / TTUR statistics format (FID alone)
  <key>-features.npy  the (N, 2048) float32 features themselves, which KID, precision/recall
                      and density/coverage need (mu and sigma do not determine them)
"""

import dataclasses
import pathlib
import re
import warnings

import ml_collections
import numpy as np

from jaxgan.data import datasets
from jaxgan.data import pipeline as input_pipeline
from jaxgan.metrics import fid as metrics
from jaxgan.metrics.featurize import say
from jaxgan.metrics.inception import FEATURE_DIM
from jaxgan.runtime import files
from jaxgan.runtime.cache import cache_dir
from jaxgan.runtime.errors import UserError

# A subset of the split is a fixed random sample, the same for every run, so that sorted
# datasets (e.g. by class) still give a representative subset.
SUBSET_SEED = 0


@dataclasses.dataclass(frozen=True)
class Reference:
    """Where a split's reference lives and what it holds."""

    dataset: str  # config.dataset's name, e.g. "mnist"
    split: str  # config.dataset's argument, "train" when it has none
    image_size: int
    num_channels: int
    num_images: int  # the whole split, or the --num_real subset
    subset: bool

    @property
    def key(self) -> str:
        name = f"{self.dataset}-{self.split}-{self.image_size}px-{self.num_channels}ch-"
        name += f"{self.num_images}" + ("-subset" if self.subset else "")
        return re.sub(r"[^A-Za-z0-9_.-]", "_", name)

    @property
    def stats_path(self) -> pathlib.Path:
        return cache_dir() / "reference" / f"{self.key}.npz"

    @property
    def features_path(self) -> pathlib.Path:
        return cache_dir() / "reference" / f"{self.key}-features.npy"


def describe(config: ml_collections.ConfigDict, num_real: int | None, split_size: int) -> Reference:
    """The reference of `config`'s dataset: `num_real` images of it (all when None)."""
    name, _, argument = config.dataset.partition(":")
    if num_real is not None and num_real > split_size:
        raise UserError(
            f"--num_real={num_real} exceeds the {split_size} images of {config.dataset}: "
            "leave it out to use the whole split"
        )
    count = split_size if num_real is None else num_real
    return Reference(
        dataset=name,
        split=argument or "train",
        image_size=config.image_size,
        num_channels=config.num_channels,
        num_images=count,
        subset=count < split_size,
    )


def select(num_images: int, split_size: int) -> np.ndarray:
    """Indices of the images a reference of `num_images` uses, in dataset order."""
    if num_images >= split_size:
        return np.arange(split_size)
    chosen = np.random.default_rng(SUBSET_SEED).choice(split_size, num_images, replace=False)
    return np.sort(chosen)


def images_of(reference: Reference, dataset: datasets.Dataset) -> np.ndarray:
    """The reference's uint8 images, as training sees them (a prepared dataset's stay on
    disk: its `take` is a lazy view, read batch by batch)."""
    chosen = dataset.images.take(select(reference.num_images, len(dataset)), axis=0)
    return input_pipeline.fit_images(chosen, reference.image_size, reference.num_channels)


def load_cached(reference: Reference) -> np.ndarray | None:
    """The cached (N, 2048) features of `reference`, or None when absent or unusable."""
    stats_path, features_path = reference.stats_path, reference.features_path
    if not (stats_path.is_file() and features_path.is_file()):
        return None
    try:
        metrics.load_statistics(stats_path)
        features = np.load(features_path, allow_pickle=False)
    except (UserError, OSError, ValueError) as error:
        say(f"ignoring the unreadable reference cache {stats_path} ({error}); recomputing it")
        return None
    if features.shape != (reference.num_images, FEATURE_DIM) or not np.isfinite(features).all():
        say(f"ignoring the reference cache {features_path}: shape {features.shape}; recomputing")
        return None
    return features


def save_cached(reference: Reference, features: np.ndarray) -> None:
    """Writes the features, then the statistics: a stats file only ever sits beside its
    complete features, and load_cached needs both."""
    reference.stats_path.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomically(reference.features_path, lambda f: np.save(f, features))
    with warnings.catch_warnings():
        # The small-sample warning belongs to the metrics record's notes, not to the cache.
        warnings.simplefilter("ignore", UserWarning)
        stats = metrics.feature_statistics(features)
    files.write_atomically(reference.stats_path, lambda f: metrics.save_statistics(f, stats))
