"""The classification accuracy of conditional samples (jaxgan/metrics/class_accuracy.py):
the classifier's input (grey 28x28 from 32-px RGB), the bookkeeping of drawn against
predicted classes through a run's own sampler, and (slow) real digits through the same
path scoring as the classifier does on them."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxgan
from jaxgan.metrics import class_accuracy, evaluation, mnist_classifier
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
