"""`grid25`: 25 Gaussians with means on {-4, -2, 0, 2, 4}^2, std 0.05 (the 2D grid of
VEEGAN, Srivastava et al. 2017, and PacGAN, Lin et al. 2018).

`grid25:N` draws N points (100k by default) from `config.seed`.
"""

import ml_collections
import numpy as np

from jaxgan.data.datasets import Dataset, _mixture

COORDINATES = (-4.0, -2.0, 0.0, 2.0, 4.0)
STD = 0.05


def centres() -> np.ndarray:
    x, y = np.meshgrid(COORDINATES, COORDINATES, indexing="ij")
    return np.stack([x.ravel(), y.ravel()], axis=1)


def load(argument: str | None, config: ml_collections.ConfigDict) -> Dataset:
    return _mixture.load("grid25", centres(), STD, argument, config)
