"""`stacked_mnist`: three MNIST training digits drawn independently and stacked as the
red, green and blue channels of one 28x28x3 image, so 10^3 = 1000 modes (Metz et al.
2017; Srivastava et al. 2017).

The label of an image is its digit triple as one number, 100 r + 10 g + b. `stacked_mnist:N`
makes N images (60k by default), drawn from `config.seed`. Train with
`config.num_channels = 3`.
"""

import ml_collections
import numpy as np

from jaxgan.data.datasets import Dataset, count_argument, mnist

DEFAULT_NUM_IMAGES = 60_000
NUM_MODES = 1000


def triple_label(digits: np.ndarray) -> np.ndarray:
    """(N, 3) digits -> (N,) mode index 100 d0 + 10 d1 + d2."""
    return (digits @ np.array([100, 10, 1])).astype(np.int32)


def stack(images: np.ndarray, labels: np.ndarray, num: int, seed: int) -> Dataset:
    """`num` stacked images from grey uint8 (M, 28, 28, 1) images with their digits."""
    rng = np.random.default_rng([seed, NUM_MODES])
    chosen = rng.integers(0, len(images), (num, 3))
    stacked = np.concatenate([images[chosen[:, c]] for c in range(3)], axis=-1)
    return Dataset(images=stacked, labels=triple_label(labels[chosen]), num_classes=NUM_MODES)


def load(argument: str | None, config: ml_collections.ConfigDict) -> Dataset:
    num = count_argument("stacked_mnist", argument, DEFAULT_NUM_IMAGES)
    images, labels = mnist.load_splits()["train"]
    return stack(images, labels, num, config.seed)
