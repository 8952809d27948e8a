"""Mode-collapse metrics of the synthetic benchmarks, as pure numpy functions.

2D mixtures (VEEGAN, Srivastava et al. 2017, sec. 5.1; PacGAN, Lin et al. 2018): each
sample goes to its nearest mode centre and is *high quality* when within `num_std`
standard deviations of it (3 in both papers). `modes` counts the centres that are the
nearest of at least one high-quality sample, `hq_pct` is the percentage of high-quality
samples, and `reverse_kl` is KL(p || q) of the histogram p of the high-quality samples
over the centres, q the data's mode weights (uniform in both papers' benchmarks; the
unrolled GAN notebook's ring, `metz_ring`, gives one mode twice the weight).

Stacked MNIST (Metz et al. 2017; VEEGAN): each of the three channels is classified as a
digit; `modes` counts the distinct digit triples seen (of 1000) and `kl` is KL(p ||
uniform) of their histogram.

KL is in nats: 0 for a perfect spread over K modes, log K when every sample sits in one.
It is None when there is no sample to make a histogram of (no high-quality sample).
"""

import numpy as np


def kl_to_uniform(counts: np.ndarray, weights: np.ndarray | None = None) -> float | None:
    """KL(p || q) of the histogram `counts`, q uniform over len(counts) or the given
    `weights` (summing to 1); None if the histogram is empty."""
    counts = np.asarray(counts, np.float64)
    total = counts.sum()
    if total == 0:
        return None
    q = np.full(len(counts), 1.0 / len(counts)) if weights is None else np.asarray(weights)
    seen = counts > 0
    p = counts[seen] / total
    return float(np.sum(p * np.log(p / q[seen])))


def nearest_centres(samples: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each sample's nearest centre and the (Euclidean) distance to it."""
    samples = np.asarray(samples, np.float64)
    squared = np.sum((samples[:, None, :] - centres[None, :, :]) ** 2, axis=-1)
    nearest = np.argmin(squared, axis=1)
    return nearest, np.sqrt(squared[np.arange(len(samples)), nearest])


def mixture_metrics(
    samples: np.ndarray,
    centres: np.ndarray,
    std: float,
    num_std: float = 3.0,
    weights: np.ndarray | None = None,
) -> dict[str, float | int | None]:
    """modes, hq_pct and reverse_kl of samples (N, D) of a mixture with these centres
    (K, D), per-mode standard deviation and mode weights (K,) (None: equal)."""
    nearest, distance = nearest_centres(samples, centres)
    high_quality = distance <= num_std * std
    counts = np.bincount(nearest[high_quality], minlength=len(centres))
    return {
        "modes": int(np.count_nonzero(counts)),
        "hq_pct": float(100.0 * np.mean(high_quality)),
        "reverse_kl": kl_to_uniform(counts, weights),
    }


def stacked_mnist_metrics(digits: np.ndarray) -> dict[str, float | int | None]:
    """modes and kl of the classified digits (N, 3) of generated stacked-MNIST images."""
    digits = np.asarray(digits)
    triples = digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]
    counts = np.bincount(triples, minlength=1000)
    return {"modes": int(np.count_nonzero(counts)), "kl": kl_to_uniform(counts)}
