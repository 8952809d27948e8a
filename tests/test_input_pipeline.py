import numpy as np
import pytest

from jaxgan.data import pipeline as input_pipeline
from jaxgan.data.datasets import Dataset
from jaxgan.runtime.errors import UserError
from tests.conftest import tiny


def small_dataset(n=10, size=4, labels=True):
    images = np.arange(n * size * size, dtype=np.int64).reshape(n, size, size, 1) % 256
    return Dataset(
        images=images.astype(np.uint8),
        labels=np.arange(n, dtype=np.int32) if labels else None,
        num_classes=n if labels else 0,
    )


def test_each_epoch_is_a_permutation_and_batches_are_deterministic():
    seen = np.concatenate(
        [input_pipeline.batch_indices(10, 3, seed=7, batch_number=b) for b in range(3)]
    )
    assert len(set(seen.tolist())) == 9  # 3 full batches of 3, the 10th example dropped
    again = input_pipeline.batch_indices(10, 3, seed=7, batch_number=1)
    np.testing.assert_array_equal(again, seen[3:6])
    next_epoch = input_pipeline.batch_indices(10, 3, seed=7, batch_number=3)
    assert not np.array_equal(next_epoch, seen[:3])
    other_seed = input_pipeline.batch_indices(10, 3, seed=8, batch_number=0)
    assert not np.array_equal(other_seed, seen[:3])


def test_starting_midway_continues_the_same_stream():
    config = tiny(batch_size=2, d_steps=2, image_size=4, num_channels=1)
    dataset = small_dataset()
    stream = input_pipeline.real_batches(dataset, config, start_batch=0)
    first = [next(stream) for _ in range(4)]
    resumed = input_pipeline.real_batches(dataset, config, start_batch=4)
    for expected in first[2:]:
        got = next(resumed)
        np.testing.assert_array_equal(got["image"], expected["image"])
        np.testing.assert_array_equal(got["label"], expected["label"])


def test_pixels_scaled_to_minus_one_one_and_labels_follow_images():
    config = tiny(batch_size=5, d_steps=1, image_size=4)
    dataset = small_dataset()
    batch = next(input_pipeline.real_batches(dataset, config, 0))
    assert batch["image"].shape == (1, 5, 4, 4, 1) and batch["image"].dtype == np.float32
    for image, label in zip(batch["image"][0], batch["label"][0], strict=True):
        expected = dataset.images[label].astype(np.float32) / 127.5 - 1
        np.testing.assert_allclose(image, expected, rtol=1e-6)
    pixels = np.array([[0, 255]], np.uint8).reshape(1, 1, 2, 1)
    assert input_pipeline.fit_images(pixels, 1 * 2, 1).shape == (1, 2, 2, 1)


def test_process_shards_partition_the_global_batch():
    config = tiny(batch_size=4, d_steps=1, image_size=4)
    dataset = small_dataset()
    whole = next(input_pipeline.real_batches(dataset, config, 0))["label"]
    parts = [next(input_pipeline.real_batches(dataset, config, 0, p, 2))["label"] for p in range(2)]
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), whole)


def test_resize_and_channels():
    grey = np.full((2, 28, 28, 1), 200, np.uint8)
    out = input_pipeline.fit_images(grey, 64, 3)
    assert out.shape == (2, 64, 64, 1)  # repeated per batch, not stored 3 times
    config = tiny(batch_size=2, d_steps=1, image_size=64, num_channels=3)
    batch = next(input_pipeline.real_batches(Dataset(grey), config, 0))
    assert batch["image"].shape == (1, 2, 64, 64, 3)
    np.testing.assert_allclose(batch["image"], 200 / 127.5 - 1, atol=1e-6)
    assert "label" not in batch
    rgb = np.zeros((1, 4, 4, 3), np.uint8)
    rgb[..., 1] = 100
    np.testing.assert_array_equal(input_pipeline.fit_images(rgb, 4, 1), np.rint(58.7))


def test_too_small_dataset_is_a_clear_error():
    config = tiny(batch_size=64, image_size=4)
    with pytest.raises(UserError, match="fewer than one batch"):
        next(input_pipeline.real_batches(small_dataset(), config, 0))


def test_prefetch_passes_items_and_errors_through():
    assert list(input_pipeline.prefetch(iter(range(5)), 2, lambda x: x * 10)) == [0, 10, 20, 30, 40]

    def broken():
        yield 1
        raise RuntimeError("disk gone")

    stream = input_pipeline.prefetch(broken(), 2)
    assert next(stream) == 1
    with pytest.raises(RuntimeError, match="disk gone"):
        next(stream)


def test_embedded_mnist_has_the_standard_splits():
    from jaxgan.data.datasets import mnist

    splits = mnist.load_splits()
    train_images, train_labels = splits["train"]
    assert train_images.shape == (60000, 28, 28, 1) and train_images.dtype == np.uint8
    assert splits["test"][0].shape == (10000, 28, 28, 1)
    # The first training digits of MNIST are 5, 0, 4, 1, 9.
    np.testing.assert_array_equal(train_labels[:5], [5, 0, 4, 1, 9])
    assert np.bincount(train_labels).tolist()[:2] == [5923, 6742]
    assert train_images.max() == 255 and train_images.min() == 0
