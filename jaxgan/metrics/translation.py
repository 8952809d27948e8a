"""Scores of an image-to-image run (the cyclegan family) on a test split whose true
counterparts are known (mnist_thick: test_b[i] is test_a[i] thickened), in both
directions:

- `mae_<dir>`: mean absolute error of each translation to its true counterpart, in
  pixel intensity (uint8 / 255, so 0..1); beside it `mae_<dir>_identity`, the error of
  returning the input unchanged, which a translation has to beat;
- `cycle_<dir>`: mean absolute error of the cycle reconstruction to the input;
- `class_accuracy_<dir>`: the share of translations that a CNN trained on the target
  domain's real training images labels with the input's class (the issue's "class
  preservation"; the CNN's accuracy on the target domain's real test images is given
  as the ceiling, `classifier_accuracy_<domain>`).

A family that translates one way (pix2pix) is scored in that direction, without
cycles. Runs on data without known counterparts (unpaired:PATH) get no scores from here: the
record says so.
"""

from typing import Any

import jax
import numpy as np

from jaxgan.data import datasets, pipeline
from jaxgan.metrics import mnist_classifier
from jaxgan.sampling.images import to_uint8

BATCH_SIZE = 500
# dataset -> the classifier (mnist_classifier.SPLITS) of domain A, of domain B
CLASSIFIERS = {"mnist_thick": ("mnist", "thick_mnist")}
METRICS = tuple(
    f"{name}_{direction}"
    for direction in ("AtoB", "BtoA")
    for name in ("mae", "cycle", "class_accuracy")
)


def mean_abs(x: np.ndarray, y: np.ndarray) -> float:
    """Mean absolute difference of uint8 images, in intensity (0..1)."""
    return float(np.mean(np.abs(x.astype(np.float32) - y.astype(np.float32))) / 255.0)


def directions(family) -> tuple[str, ...]:
    """The directions a family translates (pix2pix: "AtoB" only)."""
    return getattr(family, "DIRECTIONS", ("AtoB", "BtoA"))


def translated(restored, direction: str, images: np.ndarray):
    """uint8 translations of uint8 images, and back (the cycle; None for a family that
    translates one way), in batches."""
    family, nets, state = restored.family, restored.nets, restored.state
    back = {"AtoB": "BtoA", "BtoA": "AtoB"}[direction]
    cycles_exist = back in directions(family)

    @jax.jit
    def there_and_back(state, x):  # the state an argument: not baked in as constants
        forward = family.translate(nets, state, direction, x)
        return forward, family.translate(nets, state, back, forward) if cycles_exist else forward

    outputs, cycles = [], []
    channels = restored.config.num_channels
    for start in range(0, len(images), BATCH_SIZE):
        batch = pipeline.scaled(images[start : start + BATCH_SIZE], channels)
        forward, cycle = jax.device_get(there_and_back(state, batch))
        outputs.append(to_uint8(forward))
        cycles.append(to_uint8(cycle))
    return np.concatenate(outputs), np.concatenate(cycles) if cycles_exist else None


def record(restored) -> dict[str, Any]:
    config = restored.config
    dataset = datasets.load(config)
    base = {"step": restored.step}
    if not dataset.test_counterparts:
        return {
            **base,
            "note": (
                f"{config.dataset} has no test images with known counterparts: translation "
                "scores need such a split (mnist_thick has one)"
            ),
        }
    tests = {
        "A": pipeline.fit_images(dataset.test_a, config.image_size, config.num_channels),
        "B": pipeline.fit_images(dataset.test_b, config.image_size, config.num_channels),
    }
    classifiers = CLASSIFIERS.get(config.dataset.partition(":")[0])
    scores: dict[str, Any] = {**base, "num_test_images": len(tests["A"])}
    for direction, source, target in (("AtoB", "A", "B"), ("BtoA", "B", "A")):
        if direction not in directions(restored.family):
            continue
        outputs, cycles = translated(restored, direction, tests[source])
        scores[f"mae_{direction}"] = mean_abs(outputs, tests[target])
        scores[f"mae_{direction}_identity"] = mean_abs(tests[source], tests[target])
        if cycles is not None:
            scores[f"cycle_{direction}"] = mean_abs(cycles, tests[source])
        if classifiers and dataset.test_labels is not None and config.image_size == 28:
            name = classifiers["AB".index(target)]
            params, real_accuracy = mnist_classifier.load_or_train(name, config.data_dir)
            grey = outputs.mean(axis=-1, keepdims=True).round().astype(np.uint8)
            predicted = mnist_classifier.predict(params, grey)
            scores[f"class_accuracy_{direction}"] = float(np.mean(predicted == dataset.test_labels))
            scores[f"classifier_accuracy_{target}"] = real_accuracy
    scores["protocol"] = {
        "test": (
            f"{config.dataset}: {len(tests['A'])} test images per domain with true counterparts"
        ),
        "errors": "mean absolute difference of uint8 images / 255",
        "classifiers": "mnist_classifier.py's CNN trained on each target domain's training split",
    }
    return scores
