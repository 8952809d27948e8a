"""The classification accuracy of a conditional generator's samples: the share of
images drawn for class y that a classifier trained on the real data labels y (the
"classification accuracy score" of conditional GAN papers; the BigGAN issue's measure
on conditional Fashion-MNIST). For runs on MNIST and Fashion-MNIST, with the small CNN
of mnist_classifier.py trained on the dataset's real training split; samples of another
size or with repeated RGB channels are brought to 28x28 grey first (channel mean, then
an antialiased linear resize).
"""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.metrics import mnist_classifier
from jaxgan.sampling import latents, sampler
from jaxgan.sampling.images import to_uint8

SAMPLES_PER_CLASS = 1000
BATCH_SIZE = 250  # samples per G call
SEED = 7  # the evaluator's latents: fixed, so every checkpoint draws the same
DATASETS = tuple(mnist_classifier.SPLITS)


def applies(config) -> bool:
    """Conditional runs on a dataset jaxgan has a classifier for."""
    name = config.dataset.partition(":")[0]
    return bool(config.conditional) and not config.data_dim and name in DATASETS


def to_classifier_input(images: np.ndarray) -> np.ndarray:
    """Images in [-1, 1] (float) or uint8 pixels, (N, H, W, C) -> uint8 (N, 28, 28, 1)."""
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 127.5 - 1  # the inverse of to_uint8
    grey = jnp.mean(jnp.asarray(images, jnp.float32), axis=-1, keepdims=True)
    if grey.shape[1:3] != (28, 28):
        grey = jax.image.resize(grey, (grey.shape[0], 28, 28, 1), "linear", antialias=True)
    return np.asarray(to_uint8(grey))


def accuracy_by_class(predicted: np.ndarray, drawn: np.ndarray, num_classes: int) -> np.ndarray:
    """Each class's accuracy; NaN for a class no image was drawn for."""
    return np.array(
        [
            np.mean(predicted[drawn == c] == c) if np.any(drawn == c) else np.nan
            for c in range(num_classes)
        ]
    )


def scores(
    predicted: np.ndarray,
    drawn: np.ndarray,
    num_classes: int,
    name: str,
    test_accuracy: float,
    samples: str,
) -> dict[str, Any]:
    """The record's fields for images drawn for classes `drawn`, classified `predicted`;
    `samples` says how many were drawn."""
    per_class = accuracy_by_class(predicted, drawn, num_classes)
    return {
        "class_accuracy": float(np.mean(predicted == drawn)),
        "class_accuracy_by_class": [
            round(float(a), 4) if np.isfinite(a) else None for a in per_class
        ],
        "class_accuracy_protocol": (
            f"{samples}, classified by a CNN trained on {name}'s training split "
            f"({100 * test_accuracy:.2f}% on its test split: the real data's score)"
        ),
    }


def of_image_set(batches, labels: np.ndarray, dataset: str, classifier) -> dict[str, Any]:
    """Class accuracy of uint8 images (in `batches`, in order) drawn for classes `labels`
    (e.g. `jaxgan.sample --out=X.npz` of a conditional run, which stores them), by
    `classifier` = mnist_classifier.load_or_train(dataset)."""
    params, test_accuracy = classifier
    predicted = np.concatenate(
        [mnist_classifier.predict(params, to_classifier_input(batch)) for batch in batches]
    )
    counts = np.bincount(labels)
    counts = counts[counts > 0]
    samples = (
        f"{len(labels)} samples of {len(counts)} class(es) ({counts.min()}-{counts.max()} "
        "each) from --fake"
    )
    return scores(predicted, labels, mnist_classifier.NUM_CLASSES, dataset, test_accuracy, samples)


def record(restored, samples_per_class: int = SAMPLES_PER_CLASS) -> dict[str, Any]:
    config = restored.config
    if not applies(config):
        return {}
    name = config.dataset.partition(":")[0]
    params, test_accuracy = mnist_classifier.load_or_train(name, config.data_dir)
    sample = sampler.make_sampler(restored.generator, config.sample_with_running_stats)
    net, predicted = restored.net, []
    # Image i is of class i mod num_classes: every batch mixes the classes as training's
    # do (a one-class batch would skew BatchNorm when sampling with batch statistics).
    total = samples_per_class * config.num_classes
    drawn = np.arange(total) % config.num_classes
    z_all = latents.prior(jax.random.key(SEED), total, config)
    for start in range(0, total, BATCH_SIZE):
        z = z_all[start : start + BATCH_SIZE]
        labels = jnp.asarray(drawn[start : start + BATCH_SIZE], jnp.int32)
        images = np.asarray(sample(net, z, labels))
        predicted.append(mnist_classifier.predict(params, to_classifier_input(images)))
    predicted = np.concatenate(predicted)
    samples = f"{samples_per_class} samples per class"
    return scores(predicted, drawn, config.num_classes, name, test_accuracy, samples)
