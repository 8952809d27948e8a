"""The mode-collapse metrics on hand-made sample sets, and the benchmark datasets."""

import math

import numpy as np
import pytest

from jaxgan.data.datasets import grid25, ring8, stacked_mnist
from jaxgan.metrics import modes as mode_metrics
from tests.conftest import tiny

RING = ring8.centres()


def test_ring_centres_are_eight_distinct_points_on_the_unit_circle():
    assert RING.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(RING, axis=1), 1.0)
    gaps = np.linalg.norm(RING - np.roll(RING, 1, axis=0), axis=1)
    np.testing.assert_allclose(gaps, 2 * math.sin(math.pi / 8))  # evenly spaced, none twice
    np.testing.assert_allclose(RING[0], [1.0, 0.0])


def test_grid_centres():
    centres = grid25.centres()
    assert centres.shape == (25, 2)
    assert {tuple(c) for c in centres} == {(x, y) for x in range(-4, 5, 2) for y in range(-4, 5, 2)}


@pytest.mark.parametrize("module", [ring8, grid25])
def test_mixture_datasets_have_their_means_and_spread(module):
    data = module.load("40000", tiny(seed=3))
    points, modes = data.images, data.labels
    assert points.dtype == np.float32 and points.shape == (40000, 2) and data.data_dim == 2
    assert data.num_classes == len(module.centres())
    assert set(np.unique(modes)) == set(range(data.num_classes))
    offsets = points - module.centres()[modes]
    np.testing.assert_allclose(offsets.mean(axis=0), 0.0, atol=5 * module.STD / 200)
    np.testing.assert_allclose(offsets.std(axis=0), module.STD, rtol=0.02)
    again = module.load("40000", tiny(seed=3))
    np.testing.assert_array_equal(points, again.images)  # deterministic from the seed
    assert not np.array_equal(points, module.load("40000", tiny(seed=4)).images)


def test_all_modes_evenly():
    samples = np.repeat(RING, 10, axis=0) + 0.02 * np.array([1.0, 0.0])
    assert mode_metrics.mixture_metrics(samples, RING, ring8.STD) == {
        "modes": 8,
        "hq_pct": 100.0,
        "reverse_kl": 0.0,
    }


def test_all_in_one_mode():
    samples = np.tile(RING[3], (50, 1))
    result = mode_metrics.mixture_metrics(samples, RING, ring8.STD)
    assert result == {"modes": 1, "hq_pct": 100.0, "reverse_kl": math.log(8)}


def test_half_off_mode_noise():
    on_mode = np.repeat(RING, 5, axis=0)
    off_mode = on_mode * 0.5  # radius 0.5: 50 std from every centre
    result = mode_metrics.mixture_metrics(np.concatenate([on_mode, off_mode]), RING, ring8.STD)
    assert result == {"modes": 8, "hq_pct": 50.0, "reverse_kl": 0.0}


def test_high_quality_is_within_three_std_inclusive():
    inside = RING[:1] + [[0.0, 0.03]]  # exactly 3 std
    outside = RING[1:2] + [[0.0, 0.0301]]
    result = mode_metrics.mixture_metrics(np.concatenate([inside, outside]), RING, 0.01)
    assert result["modes"] == 1 and result["hq_pct"] == 50.0


def test_two_modes_unevenly():
    samples = np.concatenate([np.tile(RING[0], (3, 1)), np.tile(RING[5], (1, 1))])
    p = np.array([0.75, 0.25])
    expected = float(np.sum(p * np.log(p * 8)))
    result = mode_metrics.mixture_metrics(samples, RING, ring8.STD)
    assert result["modes"] == 2
    assert result["reverse_kl"] == pytest.approx(expected, abs=1e-12)


def test_no_high_quality_sample_has_no_kl():
    result = mode_metrics.mixture_metrics(np.zeros((4, 2)), RING, ring8.STD)
    assert result == {"modes": 0, "hq_pct": 0.0, "reverse_kl": None}


def test_stacked_mnist_metrics():
    every = np.array([[a, b, c] for a in range(10) for b in range(10) for c in range(10)])
    assert mode_metrics.stacked_mnist_metrics(every) == {"modes": 1000, "kl": 0.0}
    one = np.tile([[7, 0, 3]], (26, 1))
    assert mode_metrics.stacked_mnist_metrics(one) == {"modes": 1, "kl": math.log(1000)}
    ten = np.repeat(every[:10], 3, axis=0)
    result = mode_metrics.stacked_mnist_metrics(ten)
    assert result["modes"] == 10 and result["kl"] == pytest.approx(math.log(100))


def test_stacked_mnist_stacks_three_independent_digits():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 500).astype(np.int32)
    images = np.broadcast_to(labels[:, None, None, None] * 20, (500, 28, 28, 1)).astype(np.uint8)
    data = stacked_mnist.stack(images, labels, 3000, seed=1)
    assert data.images.shape == (3000, 28, 28, 3) and data.num_classes == 1000
    digits = data.images[:, 0, 0, :] // 20  # each channel carries its digit
    np.testing.assert_array_equal(data.labels, digits @ [100, 10, 1])
    assert len(np.unique(data.labels)) > 900  # channels drawn independently


def test_the_summary_line_reads_the_record():
    from jaxgan.metrics.mode_evaluation import summary

    def record(benchmark, modes_of, step, num_samples, **values):
        protocol = {"benchmark": benchmark, "modes_of": modes_of}
        return {"step": step, "num_samples": num_samples, **values, "protocol": protocol}

    ring = record("ring8", 8, 1000, 2500, modes=7, hq_pct=92.64, reverse_kl=0.2781)
    assert summary(ring) == (
        "ring8 at step 1000: 7 of 8 modes, 92.6% high quality, reverse KL 0.278 (2500 samples)"
    )
    assert "reverse KL undefined (no high-quality sample)" in summary({**ring, "reverse_kl": None})
    stacked = record("stacked_mnist", 1000, 3000, 26000, modes=951, kl=0.6094)
    assert summary(stacked) == (
        "stacked_mnist at step 3000: 951 of 1000 digit triples, KL 0.609 (26000 samples)"
    )
