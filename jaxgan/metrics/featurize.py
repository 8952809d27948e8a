"""Inception features of streams of image batches, with one progress bar and an early ETA.

An evaluation featurizes up to two streams (generated images, then the reference split when
it is not cached); one `Meter` covers both, so the bar and the ETA are for the whole job.
"""

import sys
import time
from collections.abc import Callable, Iterable

import jax
import numpy as np
from tqdm.auto import tqdm

from jaxgan.metrics.inception import FEATURE_DIM
from jaxgan.runtime.summary import format_duration


def say(line: str) -> None:
    """Progress and notes go to stderr: stdout carries only the metrics JSON."""
    print(line, file=sys.stderr, flush=True)


class Meter:
    """A tqdm bar (stderr) over every image of a job, and one line with images/s and the ETA.

    The first batch includes compilation, so the rate comes from the second: on CPU that
    line appears within a minute or two of a job that may take hours.
    """

    def __init__(self, total: int, slow_hint: str = ""):
        self.total = total
        self.slow_hint = slow_hint  # appended to the ETA line when the ETA exceeds an hour
        self.batches = 0
        self.bar = tqdm(total=total, unit="img", desc="FID features", file=sys.stderr)
        self.last = time.perf_counter()

    def update(self, count: int) -> None:
        now = time.perf_counter()
        self.batches += 1
        remaining = self.total - self.bar.n - count
        if self.batches == 2 and remaining > 0:
            rate = count / max(now - self.last, 1e-9)
            hint = f"; {self.slow_hint}" if self.slow_hint and remaining / rate > 3600 else ""
            self.bar.write(
                f"{rate:.1f} images/s (sampling + Inception features, "
                f"{jax.default_backend()}): ETA {format_duration(remaining / rate)} for the "
                f"remaining {remaining} of {self.total} images{hint}",
                file=sys.stderr,
            )
        self.last = now
        self.bar.update(count)

    def close(self) -> None:
        self.bar.close()


def features_of(
    batches: Iterable[np.ndarray],
    count: int,
    features: Callable[[np.ndarray], np.ndarray],
    batch_size: int,
    meter: Meter,
) -> np.ndarray:
    """(count, 2048) features of uint8 NHWC batches of at most `batch_size` images.

    Short batches are zero-padded to `batch_size` so the network compiles for one shape only;
    the padding's features are dropped.
    """
    out = np.empty((count, FEATURE_DIM), np.float32)
    start = 0
    for batch in batches:
        valid = len(batch)
        if valid < batch_size:
            batch = np.pad(batch, ((0, batch_size - valid), (0, 0), (0, 0), (0, 0)))
        out[start : start + valid] = features(batch)[:valid]
        start += valid
        meter.update(valid)
    if start != count:
        raise ValueError(f"the batches held {start} images, expected {count}")
    return out
