"""The evaluation binary's record for the mode-collapse benchmarks (ring8, grid25,
metz_ring, stacked_mnist): mode metrics (jaxgan/metrics/modes.py) of generated samples
instead of FID, in the same `eval/metrics_<step>.json` layout.

FID means nothing for 2D points; for stacked MNIST, the papers compare modes and KL, and
FID on a CPU takes hours, so these runs are scored with the mode metrics alone.
"""

from typing import Any

import ml_collections
import numpy as np

import jaxgan
from jaxgan.data import datasets
from jaxgan.metrics import mnist_classifier
from jaxgan.metrics import modes as mode_metrics

# The papers' sample counts: 2500 for the 2D mixtures (VEEGAN, PacGAN), 26k for stacked
# MNIST (Metz et al. 2017, VEEGAN).
DEFAULT_NUM_SAMPLES = {"ring8": 2500, "grid25": 2500, "metz_ring": 2500, "stacked_mnist": 26_000}
METRICS = ("modes", "hq_pct", "reverse_kl", "kl")
NUM_STD = 3.0


def benchmark(config: ml_collections.ConfigDict) -> str | None:
    """The benchmark of config.dataset, or None for other datasets."""
    name = config.dataset.partition(":")[0]
    return name if name in DEFAULT_NUM_SAMPLES else None


def record(
    config: ml_collections.ConfigDict,
    samples: np.ndarray,
    step: int,
    generator_protocol: dict[str, Any],
) -> dict[str, Any]:
    """The metrics record of generated `samples`: float (N, 2) points of the 2D
    mixtures, or uint8 (N, 28, 28, 3) stacked-MNIST images."""
    name = benchmark(config)
    module = datasets.module(config)
    protocol = {"benchmark": name, **generator_protocol, "notes": []}
    if name == "stacked_mnist":
        params, test_accuracy = mnist_classifier.load_or_train()
        values = mode_metrics.stacked_mnist_metrics(
            mnist_classifier.classify_channels(params, samples)
        )
        protocol["classifier"] = (
            f"jaxgan's MNIST CNN ({mnist_classifier.VERSION}), "
            f"{100 * test_accuracy:.2f}% test accuracy, on each channel"
        )
        protocol["modes_of"] = module.NUM_MODES
    else:
        centres = module.centres()
        weights = module.weights() if hasattr(module, "weights") else None
        values = mode_metrics.mixture_metrics(samples, centres, module.STD, NUM_STD, weights)
        protocol["modes_of"] = len(centres)
        protocol["high_quality"] = (
            f"within {NUM_STD:g} std ({NUM_STD * module.STD:g}) of the nearest of the "
            f"{len(centres)} centres"
        )
        protocol["reverse_kl_to"] = (
            "uniform" if weights is None else "the data's mode weights " + str(weights.tolist())
        )
    if any(value is None for value in values.values()):
        protocol["notes"].append("KL is null: no sample to make a histogram of")
    protocol["jaxgan_version"] = jaxgan.__version__
    return {"step": step, "num_samples": len(samples), **values, "protocol": protocol}


def summary(record: dict[str, Any]) -> str:
    """One line a person reads, of a record of `record` (the JSON line is for programs)."""
    protocol = record["protocol"]
    counted = f"{record['modes']} of {protocol['modes_of']} modes"
    if "hq_pct" in record:
        kl = record["reverse_kl"]
        details = f"{record['hq_pct']:.3g}% high quality, reverse KL " + (
            "undefined (no high-quality sample)" if kl is None else f"{kl:.3g}"
        )
    else:
        kl = record["kl"]
        counted = f"{record['modes']} of {protocol['modes_of']} digit triples"
        details = "KL " + ("undefined" if kl is None else f"{kl:.3g}")
    return (
        f"{protocol['benchmark']} at step {record['step']}: {counted}, {details} "
        f"({record['num_samples']} samples)"
    )
