"""MNIST -> thick MNIST, an unpaired translation task that needs no download and whose
answers are known: domain A is MNIST's digits, domain B the same kind of digits
thickened by a grey-level dilation (the maximum over each pixel's 3x3 neighbourhood).

The two training domains are disjoint halves of the 60k training digits (A the first
30k, B the dilated last 30k), so no image of A has its counterpart in B, as in real
unpaired data. The test split is the 10k test digits (A) and their dilations (B): each
translation can be compared with its true counterpart and its class checked
(jaxgan/metrics/translation.py). `mnist_thick:N` keeps the first N of each half.
"""

import ml_collections
import numpy as np

from jaxgan.data.datasets import TwoDomains, count_argument, mnist


def thicken(images: np.ndarray) -> np.ndarray:
    """uint8 NHWC dilated by a 3x3 square: each pixel the maximum of its neighbourhood."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
    height, width = images.shape[1:3]
    shifts = [padded[:, i : i + height, j : j + width] for i in range(3) for j in range(3)]
    return np.max(np.stack(shifts), axis=0)


def load(argument: str | None, config: ml_collections.ConfigDict) -> TwoDomains:
    del config
    splits = mnist.load_splits()
    train, _ = splits["train"]
    half = len(train) // 2
    count = count_argument("mnist_thick", argument, half)
    test, test_labels = splits["test"]
    return TwoDomains(
        a=train[:half][:count],
        b=thicken(train[half:][:count]),
        test_a=test,
        test_b=thicken(test),
        test_counterparts=True,
        test_labels=test_labels,
    )
