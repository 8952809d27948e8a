"""`metz_ring`: the ring of the unrolled GAN's public notebook (Metz et al. 2017;
github.com/poolio/unrolled_gan, `Unrolled GAN demo.ipynb`, `sample_mog`).

The notebook draws each point from one of 8 equally likely Gaussians of std 0.01 with
means (sin t, cos t) at angles t = linspace(0, 2 pi, 8). That linspace includes both ends,
so its first and last means are the same point (0, 1): the ring has 7 distinct modes, the
one at (0, 1) with twice the weight of the others (2/8 against 1/8), and the gap between
neighbouring modes is 2 pi / 7. jaxgan's `ring8` is the 8-mode ring of VEEGAN and PacGAN;
this one exists to reproduce the notebook's figure exactly.

Points carry the index of their distinct mode (0-6) as label. The notebook draws a fresh
batch every step; jaxgan draws `metz_ring:N` points once (100k by default) from
`config.seed` and shuffles them each epoch, as for the other mixtures.
"""

import ml_collections
import numpy as np

from jaxgan.data.datasets import Dataset, _mixture

NUM_COMPONENTS = 8
RADIUS = 1.0
STD = 0.01


def components() -> np.ndarray:
    """The notebook's 8 component means, (8, 2), the first and the last equal."""
    angles = np.linspace(0, 2 * np.pi, NUM_COMPONENTS)
    return RADIUS * np.stack([np.sin(angles), np.cos(angles)], axis=1)


def centres() -> np.ndarray:
    """The 7 distinct mode centres (the last component is the first one again)."""
    return components()[:-1]


def weights() -> np.ndarray:
    """Each distinct mode's share of the data: 2/8 for (0, 1), 1/8 for the others."""
    shares = np.full(NUM_COMPONENTS - 1, 1.0 / NUM_COMPONENTS)
    shares[0] += 1.0 / NUM_COMPONENTS
    return shares


def load(argument: str | None, config: ml_collections.ConfigDict) -> Dataset:
    drawn = _mixture.load("metz_ring", components(), STD, argument, config)
    # Component 7 sits on centre 0: label points by their distinct mode.
    labels = np.where(drawn.labels == NUM_COMPONENTS - 1, 0, drawn.labels)
    return Dataset(images=drawn.images, labels=labels, num_classes=NUM_COMPONENTS - 1)
