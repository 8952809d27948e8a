"""Mixtures of isotropic Gaussians in the plane: the synthetic mode-collapse benchmarks.

Each benchmark module (ring8.py, grid25.py) names its mode centres and standard
deviation; the points are drawn here, deterministically from `config.seed`, each labelled
with its mode.
"""

import ml_collections
import numpy as np

from jaxgan.data.datasets import Dataset, count_argument

DEFAULT_NUM_POINTS = 100_000


def sample(centres: np.ndarray, std: float, num: int, seed: int) -> Dataset:
    """`num` points, each from a mode chosen uniformly, as float32 (num, 2) with its mode
    as label."""
    rng = np.random.default_rng([seed, len(centres)])
    modes = rng.integers(0, len(centres), num)
    points = centres[modes] + std * rng.standard_normal((num, centres.shape[1]))
    return Dataset(
        images=points.astype(np.float32),
        labels=modes.astype(np.int32),
        num_classes=len(centres),
    )


def load(
    name: str,
    centres: np.ndarray,
    std: float,
    argument: str | None,
    config: ml_collections.ConfigDict,
) -> Dataset:
    num = count_argument(name, argument, DEFAULT_NUM_POINTS)
    return sample(centres, std, num, config.seed)
