"""The classification accuracy of conditional samples (jaxgan/metrics/class_accuracy.py):
the classifier's input (grey 28x28 from 32-px RGB), the bookkeeping of drawn against
predicted classes through a run's own sampler and through a labelled .npz (`evaluate
--fake`), and (slow) real digits through the same path scoring as the classifier does on
them."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxgan
from jaxgan.metrics import class_accuracy, evaluation, image_sets, mnist_classifier
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import restore
from tests.conftest import tiny


def test_samples_become_the_classifiers_grey_28_pixel_input():
    images = np.full((2, 32, 32, 3), -1.0, np.float32)
    images[1] = 1.0
    images[1, ..., 0] = -1.0  # channel mean 1/3 -> (1/3 + 1) * 127.5 = 170
    out = class_accuracy.to_classifier_input(images)
    assert out.shape == (2, 28, 28, 1) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[0], 0)
    np.testing.assert_array_equal(out[1], 170)
    same = class_accuracy.to_classifier_input(np.zeros((1, 28, 28, 1), np.float32))
    np.testing.assert_array_equal(same, 128)  # rint(127.5) (half to even)


def test_accuracy_by_class_counts_each_class_apart():
    drawn = np.array([0, 0, 1, 1, 1, 2])
    predicted = np.array([0, 1, 1, 1, 0, 2])
    np.testing.assert_allclose(
        class_accuracy.accuracy_by_class(predicted, drawn, 3), [0.5, 2 / 3, 1]
    )


def test_the_record_scores_each_class_through_the_runs_sampler(monkeypatch):
    config = tiny(conditional=True, num_classes=10)
    family = jaxgan.families.of(config)
    assert family.evaluators(config) == ("images", "class_accuracy")
    assert jaxgan.families.of(tiny()).evaluators(tiny()) == ("images",)
    nets = family.build(config)
    restored = restore.Restored(config, 2, family, nets, jaxgan.create_train_state(config))

    def labelled_sampler(generator, with_running_stats):  # image value = its class / 10
        return lambda net, z, labels: jnp.broadcast_to(
            (labels / 10.0)[:, None, None, None], (len(z), 28, 28, 1)
        )

    def predict(params, images):  # reads the class back, but calls every 3 a 4
        digits = np.rint((images[:, 0, 0, 0].astype(np.float64) / 127.5 - 1) * 10).astype(int)
        return np.where(digits == 3, 4, digits)

    monkeypatch.setattr(class_accuracy.sampler, "make_sampler", labelled_sampler)
    monkeypatch.setattr(class_accuracy.mnist_classifier, "load_or_train", lambda *a: ({}, 0.99))
    monkeypatch.setattr(class_accuracy.mnist_classifier, "predict", predict)
    record = evaluation.family_scores(restored)
    assert record["class_accuracy"] == pytest.approx(0.9)
    assert record["class_accuracy_by_class"] == [1, 1, 1, 0, 1, 1, 1, 1, 1, 1]
    assert "99.00%" in record["class_accuracy_protocol"]


def test_uint8_pixels_reach_the_classifier_unchanged():
    pixels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
    pixels = np.pad(pixels, ((0, 0), (6, 6), (6, 6), (0, 0)), constant_values=7)
    np.testing.assert_array_equal(class_accuracy.to_classifier_input(pixels), pixels)
    rgb = np.stack([pixels[..., 0], pixels[..., 0], np.zeros_like(pixels[..., 0])], -1)
    expected = np.clip(np.rint(pixels.astype(np.float64) * 2 / 3 - 1 / 3), 0, 255)  # mean
    np.testing.assert_allclose(class_accuracy.to_classifier_input(rgb), expected, atol=1)


def test_a_labelled_npz_is_scored_image_by_image_against_its_labels(tmp_path, monkeypatch):
    """`jaxgan.sample --out=X.npz` of a conditional run stores `labels`; evaluate --fake
    classifies each image and compares with its label: 9 of 10 classes read back right
    and every 3 read as 4 gives 0.9, class 3 at 0."""
    labels = np.arange(40) % 10
    images = np.broadcast_to(labels[:, None, None, None] * 20, (40, 28, 28, 1)).astype(np.uint8)
    np.savez(tmp_path / "fake.npz", images=images, labels=labels)
    fake = image_sets.open_images(str(tmp_path / "fake.npz"), "--fake")
    np.testing.assert_array_equal(fake.labels, labels)

    def predict(params, pixels):  # reads the class back, but calls every 3 a 4
        digits = pixels[:, 0, 0, 0].astype(int) // 20
        return np.where(digits == 3, 4, digits)

    monkeypatch.setattr(class_accuracy.mnist_classifier, "load_or_train", lambda *a: ({}, 0.91))
    monkeypatch.setattr(class_accuracy.mnist_classifier, "predict", predict)
    dataset, classifier = evaluation._classified_dataset("fashion_mnist:test", fake)
    record = class_accuracy.of_image_set(fake.read(16), fake.labels, dataset, classifier)
    assert record["class_accuracy"] == pytest.approx(0.9)
    assert record["class_accuracy_by_class"] == [1, 1, 1, 0, 1, 1, 1, 1, 1, 1]
    protocol = record["class_accuracy_protocol"]
    assert "40 samples of 10 class(es) (4-4 each)" in protocol and "fashion_mnist" in protocol
    assert "91.00%" in protocol
    assert evaluation._classified_dataset("cifar10:test", fake) is None  # no classifier
    unlabelled = dataclasses.replace(fake, labels=None)
    assert evaluation._classified_dataset("mnist:test", unlabelled) is None


@pytest.mark.parametrize(
    "labels, message",
    [
        (np.arange(4) * 0.5, r"'labels' must be integers of shape \(4,\), one per image"),
        (np.arange(3), r"shape \(4,\), one per image, got int64 \(3,\)"),
        (np.array([0, 1, -1, 2]), r"'labels' must be class indices 0..K-1, got -1..2"),
    ],
)
def test_bad_labels_in_an_npz_are_refused_when_it_is_opened(tmp_path, labels, message):
    np.savez(tmp_path / "fake.npz", images=np.zeros((4, 28, 28, 1), np.uint8), labels=labels)
    with pytest.raises(UserError, match=message):
        image_sets.open_images(str(tmp_path / "fake.npz"), "--fake")
    # A --real set's labels are not read.
    assert image_sets.open_real(str(tmp_path / "fake.npz")).labels is None


def test_labels_beyond_the_classifiers_classes_are_refused_before_any_work(tmp_path, monkeypatch):
    np.savez(tmp_path / "fake.npz", images=np.zeros((4, 28, 28, 1), np.uint8), labels=[0, 1, 10, 2])

    def no_work(*args, **kwargs):
        raise AssertionError("work began before the labels were checked")

    monkeypatch.setattr(evaluation, "inception_features", no_work)
    monkeypatch.setattr(evaluation, "real_side", no_work)
    monkeypatch.setattr(class_accuracy.mnist_classifier, "load_or_train", no_work)
    message = "`labels` go up to 10; mnist has 10 classes"
    with pytest.raises(UserError, match=message):
        evaluation.compare("mnist:test", str(tmp_path / "fake.npz"))


@pytest.mark.slow
def test_real_digits_through_the_sample_path_score_as_the_classifier_does(tmp_path, monkeypatch):
    """MNIST's test digits at 32 px RGB in [-1, 1] (as a 32-px conditional run makes them)
    are classified as well as the classifier classifies the originals."""
    monkeypatch.setenv("JAXGAN_CACHE_DIR", str(tmp_path))
    params, test_accuracy = mnist_classifier.load_or_train("mnist")
    images, labels = mnist_classifier.SPLITS["mnist"]("")["test"]
    images, labels = images[:2000], labels[:2000]
    as_samples = jax.image.resize(
        jnp.asarray(images, jnp.float32) / 127.5 - 1, (2000, 32, 32, 1), "linear"
    )
    as_samples = np.asarray(jnp.repeat(as_samples, 3, axis=-1))
    predicted = mnist_classifier.predict(params, class_accuracy.to_classifier_input(as_samples))
    assert np.mean(predicted == labels) >= test_accuracy - 0.01
