import itertools
import warnings

import numpy as np
import pytest
import scipy.linalg

from jaxgan.metrics import fid as metrics
from jaxgan.runtime.errors import UserError

# -- FID ------------------------------------------------------------------------------------------


def _random_covariance(rng: np.random.Generator, d: int, rank: int | None = None) -> np.ndarray:
    a = rng.normal(size=(d, rank or d))
    return a @ a.T / d


def test_frechet_distance_of_identical_gaussians_is_zero():
    rng = np.random.default_rng(0)
    mu, sigma = rng.normal(size=16), _random_covariance(rng, 16)
    assert metrics.frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-10)


def test_frechet_distance_of_diagonal_gaussians():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 4.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 4.0, 1.0])
    expected = 1.0 + 4.0 + ((1 - 2) ** 2 + (2 - 2) ** 2 + (3 - 1) ** 2)
    assert metrics.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected)


def test_frechet_distance_of_non_commuting_covariances():
    # For 2x2 M with positive eigenvalues, tr(M^1/2) = sqrt(tr M + 2 sqrt(det M)); here
    # M = S1 S2 = [[2, 3], [1, 6]]: tr 8, det 9, so tr((S1 S2)^1/2) = sqrt(14).
    s1, s2 = np.array([[2.0, 1.0], [1.0, 2.0]]), np.diag([1.0, 3.0])
    zero = np.zeros(2)
    assert metrics.frechet_distance(zero, s1, zero, s2) == pytest.approx(8.0 - 2.0 * np.sqrt(14.0))


def test_frechet_distance_matches_sqrtm_formula():
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.normal(size=32), rng.normal(size=32)
    s1, s2 = _random_covariance(rng, 32), _random_covariance(rng, 32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        root = scipy.linalg.sqrtm(s1 @ s2).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2.0 * root)
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_is_finite_for_rank_deficient_covariances():
    rng = np.random.default_rng(2)
    s1, s2 = _random_covariance(rng, 64, rank=3), _random_covariance(rng, 64, rank=5)
    zero = np.zeros(64)
    distance = metrics.frechet_distance(zero, s1, zero, s2)
    assert np.isfinite(distance) and distance > 0.0
    assert metrics.frechet_distance(zero, s1, zero, s1) == pytest.approx(0.0, abs=1e-12)


def test_frechet_distance_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shapes"):
        metrics.frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_feature_statistics_and_small_sample_warning():
    features = np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 4.0]])
    with pytest.warns(UserWarning, match="rank-deficient"):
        stats = metrics.feature_statistics(features)
    np.testing.assert_allclose(stats.mu, [2.0, 2.0])
    np.testing.assert_allclose(stats.sigma, [[4.0, 3.0], [3.0, 3.0]])
    assert stats.mu.dtype == np.float64


def test_fid_of_sample_sets_with_shifted_mean():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2048, 4))
    # Same samples shifted: covariances are equal, so FID is exactly the squared shift.
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 2048 samples: no small-sample warning
        assert metrics.fid(x, x + [1.0, 0.0, 2.0, 0.0]) == pytest.approx(5.0)


def test_statistics_round_trip(tmp_path):
    rng = np.random.default_rng(4)
    stats = metrics.FeatureStats(rng.normal(size=8), _random_covariance(rng, 8))
    metrics.save_statistics(tmp_path / "ref.npz", stats)
    loaded = metrics.load_statistics(tmp_path / "ref.npz")
    np.testing.assert_array_equal(loaded.mu, stats.mu)
    np.testing.assert_array_equal(loaded.sigma, stats.sigma)


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"mu": np.zeros(3)}, "lacks sigma"),
        ({"mean": np.zeros(3), "cov": np.eye(3)}, "lacks mu, sigma"),
        ({"mu": np.zeros(3), "sigma": np.eye(4)}, r"mu must be \(D,\)"),
        ({"mu": np.zeros((3, 1)), "sigma": np.eye(3)}, r"mu must be \(D,\)"),
        ({"mu": np.full(2, np.nan), "sigma": np.eye(2)}, "NaN"),
        ({"mu": np.array([object()]), "sigma": np.eye(1)}, "cannot read"),
    ],
)
def test_load_statistics_rejects_malformed_files(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(UserError, match=message):
        metrics.load_statistics(path)


def test_load_statistics_rejects_missing_npy_and_garbage(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        metrics.load_statistics(tmp_path / "absent.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(UserError, match="single array"):
        metrics.load_statistics(tmp_path / "single.npy")
    (tmp_path / "garbage.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(UserError, match="cannot read"):
        metrics.load_statistics(tmp_path / "garbage.npz")


# -- KID ------------------------------------------------------------------------------------------


def test_kid_of_two_constant_sets():
    # k(a, a) = k(b, b) = (1/2 + 1)^3 = 3.375 and k(a, b) = 1, so MMD² = 2 * 3.375 - 2 = 4.75.
    real, fake = np.tile([1.0, 0.0], (6, 1)), np.tile([0.0, 1.0], (5, 1))
    result = metrics.kid(real, fake, num_subsets=7)
    assert result.mean == pytest.approx(4.75)
    assert result.std == pytest.approx(0.0, abs=1e-12)


def test_kid_matches_brute_force_unbiased_mmd():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(6, 3)), rng.normal(1.0, size=(6, 3))

    def k(a, b):
        return (a @ b / 3 + 1) ** 3

    pairs = list(itertools.permutations(range(6), 2))
    expected = (
        sum(k(x[i], x[j]) + k(y[i], y[j]) for i, j in pairs) / len(pairs)
        - 2 * sum(k(x[i], y[j]) for i in range(6) for j in range(6)) / 36
    )
    # One subset holding every sample: the estimate is permutation invariant.
    result = metrics.kid(x, y, num_subsets=1)
    assert result.mean == pytest.approx(expected, rel=1e-12)


def test_kid_standard_error_and_subset_size():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(40, 4)), rng.normal(size=(30, 4))
    result = metrics.kid(x, y, num_subsets=25, max_subset_size=10, seed=1)
    assert result.std > 0.0
    assert result.stderr == pytest.approx(result.std / 5.0)
    assert metrics.kid(x, y, num_subsets=25, max_subset_size=10, seed=1) == result


# -- Precision / recall, density / coverage -------------------------------------------------------

# Real: two clusters; the k=3 radii of the first are 3, 2, 2, 3, so its balls are [-3, 3],
# [-1, 3], [0, 4], [0, 6]. Fake: 0.5 … 4.5 near the first cluster only, radii 3, 2, 2, 2, 3.
REAL = np.array([0.0, 1.0, 2.0, 3.0, 100.0, 101.0, 102.0, 103.0])[:, None]
FAKE = np.array([0.5, 1.5, 2.5, 3.5, 4.5])[:, None]


def test_precision_recall_on_hand_made_points():
    result = metrics.precision_recall(REAL, FAKE)  # k=3 by default
    assert result.precision == 1.0  # every fake point lies in [0, 6]
    assert result.recall == 0.5  # the fake balls span [-2.5, 7.5]: only the first cluster
    assert "VGG-16" in result.note


def test_precision_recall_with_k1():
    real = np.array([0.0, 1.0, 2.0, 3.0])[:, None]  # radii 1: union [-1, 4]
    fake = np.array([0.5, 3.5, 5.0, 9.0])[:, None]  # radii 3, 1.5, 1.5, 4
    assert metrics.precision_recall(real, fake, k=1)[:2] == (0.5, 1.0)


def test_density_coverage_on_hand_made_points():
    # Real balls holding each fake point: 0.5 → 4, 1.5 → 4, 2.5 → 4, 3.5 → 2, 4.5 → 1.
    result = metrics.density_coverage(REAL, FAKE, k=3)
    assert result.density == pytest.approx(15 / (3 * 5))
    assert result.coverage == 0.5
    assert "not comparable" in result.note
    # With k=1 every real radius is 1: 0.5 → 2 balls, 1.5 → 2, 2.5 → 2, 3.5 → 1, 4.5 → 0.
    assert metrics.density_coverage(REAL, FAKE, k=1)[:2] == (pytest.approx(7 / 5), 0.5)


def test_manifold_metrics_do_not_depend_on_block_size(monkeypatch):
    rng = np.random.default_rng(7)
    real, fake = rng.normal(size=(50, 5)), rng.normal(0.3, size=(40, 5))
    whole = metrics.precision_recall(real, fake), metrics.density_coverage(real, fake)
    monkeypatch.setattr(metrics, "_BLOCK_ROWS", 7)
    assert (metrics.precision_recall(real, fake), metrics.density_coverage(real, fake)) == whole


def test_knn_needs_more_samples_than_k():
    with pytest.raises(ValueError, match="more than 3"):
        metrics.precision_recall(np.zeros((3, 2)), np.zeros((5, 2)))


# -- Inception Score ------------------------------------------------------------------------------


def test_inception_score_of_uniform_predictions_is_one():
    result = metrics.inception_score(np.zeros((50, 10)))
    assert result == (pytest.approx(1.0), pytest.approx(0.0))


def test_inception_score_of_confident_distinct_classes_is_class_count():
    logits = np.tile(50.0 * np.eye(4), (10, 1))  # each split of 4 holds every class once
    result = metrics.inception_score(logits, splits=10)
    assert result.mean == pytest.approx(4.0)
    assert result.std == pytest.approx(0.0, abs=1e-9)


def test_inception_score_of_two_class_mixtures_is_half_class_count():
    # p(y|x) uniform on a pair {2i, 2i+1}, p(y) uniform on 6: KL = log 6 - log 2, IS = 3.
    logits = np.full((3, 6), -1e3)
    for i in range(3):
        logits[i, 2 * i : 2 * i + 2] = 0.0
    assert metrics.inception_score(logits, splits=1).mean == pytest.approx(3.0)


def test_inception_score_spread_over_splits():
    one_class = np.tile([30.0, 0.0], (4, 1))  # IS 1
    two_classes = np.array([[30.0, 0.0], [0.0, 30.0]] * 2)  # IS 2
    result = metrics.inception_score(np.concatenate([one_class, two_classes]), splits=2)
    assert result == (pytest.approx(1.5), pytest.approx(0.5))
