"""Sample-quality metrics on feature arrays, in numpy float64.

FID, KID, precision/recall, density/coverage and Inception Score. Features are (N, D) arrays,
e.g. from `jaxgan.metrics.inception`; none of this touches JAX, so it never needs jax_enable_x64.
"""

from __future__ import annotations

import os
import warnings
import zipfile
from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.special

from jaxgan.runtime.errors import UserError

FID_MIN_SAMPLES = 2048
VGG_NOTE = (
    "the papers computed these on VGG-16 features; values on other features are not comparable "
    "to their tables"
)


def _features(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"{name} must be a non-empty (N, D) array, got shape {x.shape}")
    return x


# -- FID ------------------------------------------------------------------------------------------


class FeatureStats(NamedTuple):
    mu: np.ndarray
    sigma: np.ndarray


def feature_statistics(features: np.ndarray) -> FeatureStats:
    """Mean and (N-1)-normalised covariance of (N, D) features, in float64."""
    x = _features(features, "features")
    if len(x) < 2:
        raise ValueError("a covariance needs at least 2 samples")
    if len(x) < FID_MIN_SAMPLES:
        warnings.warn(
            f"FID statistics from {len(x)} < {FID_MIN_SAMPLES} samples: the covariance is "
            "rank-deficient and FID is biased upwards; use 10k-50k samples for reportable values",
            stacklevel=2,
        )
    return FeatureStats(x.mean(axis=0), np.cov(x, rowvar=False))


def _sqrt_eigenvalues(eigenvalues: np.ndarray) -> np.ndarray:
    # Eigenvalues within rounding of zero (the matrix_rank tolerance) are zero: their square
    # roots would otherwise add ~1e-8 each to the trace of a rank-deficient product.
    tolerance = np.abs(eigenvalues).max(initial=0.0) * len(eigenvalues) * np.finfo(np.float64).eps
    return np.sqrt(np.where(eigenvalues > tolerance, eigenvalues, 0.0))


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    eigenvalues, eigenvectors = scipy.linalg.eigh(matrix)
    return (eigenvectors * _sqrt_eigenvalues(eigenvalues)) @ eigenvectors.T


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    """Fréchet distance between two Gaussians (Heusel et al. 2017, "GANs Trained by a Two
    Time-Scale Update Rule").

    tr((Σ1 Σ2)^½) is computed as Σ sqrt(eig(Σ1^½ Σ2 Σ1^½)): the same value for covariances, but
    from symmetric eigenproblems, so rank-deficient inputs give no complex or NaN parts.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"shapes do not match: mu {mu1.shape}, {mu2.shape}; sigma {sigma1.shape}, "
            f"{sigma2.shape}"
        )
    root1 = _psd_sqrt(sigma1)
    product = root1 @ sigma2 @ root1
    eigenvalues = scipy.linalg.eigvalsh((product + product.T) / 2)
    trace_sqrt = _sqrt_eigenvalues(eigenvalues).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)


def fid(features1: np.ndarray, features2: np.ndarray) -> float:
    """FID between two (N, D) feature sets (Heusel et al. 2017)."""
    return frechet_distance(*feature_statistics(features1), *feature_statistics(features2))


def save_statistics(path: str | os.PathLike, stats: FeatureStats) -> None:
    """Write `mu` and `sigma` to an .npz, the pytorch-fid / TTUR reference format."""
    np.savez(path, mu=np.asarray(stats.mu, np.float64), sigma=np.asarray(stats.sigma, np.float64))


def load_statistics(path: str | os.PathLike) -> FeatureStats:
    """Read reference statistics (`mu` (D,), `sigma` (D, D)) from an .npz file."""
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise UserError(f"{path} holds a single array, not an .npz with mu and sigma")
        with data:
            missing = {"mu", "sigma"} - set(data.files)
            if missing:
                raise UserError(
                    f"{path} lacks {', '.join(sorted(missing))}: reference statistics need arrays "
                    f"'mu' and 'sigma' (found {', '.join(data.files) or 'none'})"
                )
            mu, sigma = data["mu"], data["sigma"]
    except FileNotFoundError:
        raise UserError(f"reference statistics file {path} does not exist") from None
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise UserError(f"cannot read reference statistics {path}: {error}") from None
    d = mu.shape[0] if mu.ndim == 1 else -1
    if d < 1 or sigma.shape != (d, d):
        raise UserError(
            f"{path}: mu must be (D,) and sigma (D, D), got {mu.shape} and {sigma.shape}"
        )
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise UserError(f"{path}: mu or sigma holds NaN or infinite values")
    return FeatureStats(mu.astype(np.float64), sigma.astype(np.float64))


# -- KID ------------------------------------------------------------------------------------------


class KID(NamedTuple):
    mean: float
    std: float  # spread of the per-subset estimates (the ± usually reported)
    stderr: float  # std / sqrt(num_subsets): Monte-Carlo error of `mean`


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    # Cubic polynomial kernel k(a, b) = (a·b / D + 1)³.
    d = x.shape[1]
    m = len(x)
    k_xx = (x @ x.T / d + 1.0) ** 3
    k_yy = (y @ y.T / d + 1.0) ** 3
    k_xy = (x @ y.T / d + 1.0) ** 3
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2.0 * k_xy.mean())


def kid(
    real: np.ndarray,
    fake: np.ndarray,
    *,
    num_subsets: int = 100,
    max_subset_size: int = 1000,
    seed: int = 0,
) -> KID:
    """Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs").

    Unbiased MMD² with a cubic polynomial kernel, averaged over random subsets of equal size
    drawn without replacement from each set.
    """
    real, fake = _features(real, "real"), _features(fake, "fake")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature sizes differ: {real.shape[1]} vs {fake.shape[1]}")
    m = min(len(real), len(fake), max_subset_size)
    if m < 2:
        raise ValueError("KID needs at least 2 samples in each set")
    rng = np.random.default_rng(seed)
    estimates = np.array(
        [
            _mmd2_unbiased(
                real[rng.choice(len(real), m, replace=False)],
                fake[rng.choice(len(fake), m, replace=False)],
            )
            for _ in range(num_subsets)
        ]
    )
    std = float(estimates.std(ddof=1)) if num_subsets > 1 else 0.0
    return KID(float(estimates.mean()), std, std / np.sqrt(num_subsets))


# -- Nearest-neighbour manifolds ------------------------------------------------------------------

# Rows per block of a distance matrix: 1024 × 50k float64 is 400 MB at most.
_BLOCK_ROWS = 1024


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d2, 0.0)


def _knn_radii2(x: np.ndarray, k: int) -> np.ndarray:
    """Squared distance from each point to its k-th nearest other point."""
    if len(x) <= k:
        raise ValueError(f"k={k} nearest neighbours need more than {k} samples, got {len(x)}")
    radii = np.empty(len(x))
    for start in range(0, len(x), _BLOCK_ROWS):
        d2 = _squared_distances(x[start : start + _BLOCK_ROWS], x)
        # Position k, not k-1: each point is its own nearest neighbour at distance 0.
        radii[start : start + _BLOCK_ROWS] = np.partition(d2, k, axis=1)[:, k]
    return radii


def _ball_counts(queries: np.ndarray, centres: np.ndarray, radii2: np.ndarray) -> np.ndarray:
    """For each query, how many of the closed balls B(centre, radius) contain it."""
    counts = np.empty(len(queries), np.int64)
    for start in range(0, len(queries), _BLOCK_ROWS):
        d2 = _squared_distances(queries[start : start + _BLOCK_ROWS], centres)
        counts[start : start + _BLOCK_ROWS] = (d2 <= radii2[None, :]).sum(axis=1)
    return counts


def _covered(centres: np.ndarray, radii2: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For each centre, whether its ball holds at least one query."""
    nearest = np.full(len(centres), np.inf)
    for start in range(0, len(queries), _BLOCK_ROWS):
        d2 = _squared_distances(queries[start : start + _BLOCK_ROWS], centres)
        nearest = np.minimum(nearest, d2.min(axis=0))
    return nearest <= radii2


class PrecisionRecall(NamedTuple):
    precision: float
    recall: float
    note: str = VGG_NOTE


def precision_recall(real: np.ndarray, fake: np.ndarray, *, k: int = 3) -> PrecisionRecall:
    """Improved precision and recall (Kynkäänniemi et al. 2019) from k-NN balls.

    Precision: share of fake samples inside some real sample's ball (radius: distance to its
    k-th nearest real neighbour); recall: the same with the roles swapped.
    """
    real, fake = _features(real, "real"), _features(fake, "fake")
    precision = (_ball_counts(fake, real, _knn_radii2(real, k)) > 0).mean()
    recall = (_ball_counts(real, fake, _knn_radii2(fake, k)) > 0).mean()
    return PrecisionRecall(float(precision), float(recall))


class DensityCoverage(NamedTuple):
    density: float
    coverage: float
    note: str = VGG_NOTE


def density_coverage(real: np.ndarray, fake: np.ndarray, *, k: int = 5) -> DensityCoverage:
    """Density and coverage (Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics").

    Density: mean number of real k-NN balls holding each fake sample, divided by k; coverage:
    share of real balls holding at least one fake sample.
    """
    real, fake = _features(real, "real"), _features(fake, "fake")
    radii2 = _knn_radii2(real, k)
    density = _ball_counts(fake, real, radii2).sum() / (k * len(fake))
    coverage = _covered(real, radii2, fake).mean()
    return DensityCoverage(float(density), float(coverage))


# -- Inception Score ------------------------------------------------------------------------------


class InceptionScore(NamedTuple):
    mean: float
    std: float


def inception_score(logits: np.ndarray, splits: int = 10) -> InceptionScore:
    """Inception Score exp(E_x KL(p(y|x) ‖ p(y))) over `splits` chunks (Salimans et al. 2016).

    Takes classifier logits; the FID export in `jaxgan.metrics.inception` has no classifier head.
    """
    logits = _features(logits, "logits")
    if not 1 <= splits <= len(logits):
        raise ValueError(f"splits must be in [1, {len(logits)}], got {splits}")
    scores = []
    n = len(logits)
    # The references' splits: rows [s N // S, (s + 1) N // S).
    for part in (logits[s * n // splits : (s + 1) * n // splits] for s in range(splits)):
        log_p = scipy.special.log_softmax(part, axis=1)
        log_marginal = scipy.special.logsumexp(log_p, axis=0) - np.log(len(part))
        kl = (np.exp(log_p) * (log_p - log_marginal)).sum(axis=1).mean()
        scores.append(np.exp(kl))
    return InceptionScore(float(np.mean(scores)), float(np.std(scores)))
