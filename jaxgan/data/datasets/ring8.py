"""`ring8`: 8 Gaussians on the unit circle, std 0.01 (the 2D ring of VEEGAN, Srivastava et
al. 2017, and PacGAN, Lin et al. 2018).

The means are at angles 2 pi k / 8 for k = 0..7: eight distinct modes (a `linspace` over
[0, 2 pi] inclusive would put the first and the last on the same point). `ring8:N` draws N
points (100k by default) from `config.seed`.
"""

import ml_collections
import numpy as np

from jaxgan.data.datasets import Dataset, _mixture

NUM_MODES = 8
RADIUS = 1.0
STD = 0.01


def centres() -> np.ndarray:
    angles = 2 * np.pi * np.arange(NUM_MODES) / NUM_MODES
    return RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def load(argument: str | None, config: ml_collections.ConfigDict) -> Dataset:
    return _mixture.load("ring8", centres(), STD, argument, config)
