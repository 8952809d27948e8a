"""Times the transposed-convolution implementations on the DCGAN generator's four layers.

Run ``python -m jaxgan.bench_layers``: one JSON line per (layer, implementation) with the
median and the minimum, in ms, of jitted forward, input gradient, kernel gradient and forward
plus both gradients, and the 1-minute load average when the row finished (a busy machine
inflates medians; the minimum is the steadier figure then). If torch is importable, also
ConvTranspose2d(k=4, s=2, p=1) forward and forward+backward on the same shapes.
"""

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxgan.layers import conv_transpose_phase

# (H = W, in channels, out channels) of pytorch/examples' DCGAN generator (ngf=64, nc=3)
# upsampling layers; each doubles H and W.
DCGAN_LAYERS = ((4, 512, 256), (8, 256, 128), (16, 128, 64), (32, 64, 3))
STRIDES, PADDING = (2, 2), ((2, 2), (2, 2))

# 'phase' is what UpsampleConvTranspose runs; the packed variants are kept for comparison.
IMPLEMENTATIONS: dict[str, Callable[[jax.Array, jax.Array], jax.Array]] = {
    "xla": lambda x, k: lax.conv_transpose(
        x, k, STRIDES, PADDING, dimension_numbers=("NHWC", "HWIO", "NHWC")
    ),
    "phase": lambda x, k: conv_transpose_phase(x, k, STRIDES, PADDING),
    "phase-shared": lambda x, k: conv_transpose_phase(x, k, STRIDES, PADDING, packing="shared"),
    "phase-union": lambda x, k: conv_transpose_phase(x, k, STRIDES, PADDING, packing="union"),
}


def _time_ms(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(median, min) wall time in ms of fn() after one warm-up call (which also compiles)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times), min(times)


def _row(layer: str, impl: str, timings: dict[str, tuple[float, float]]) -> str:
    row: dict[str, object] = {"layer": layer, "impl": impl}
    for name, (median, minimum) in timings.items():
        row[f"{name}_ms"] = round(median, 1)
        row[f"{name}_min_ms"] = round(minimum, 1)
    row["load1"] = round(os.getloadavg()[0], 2)
    return json.dumps(row)


def bench_jax(h: int, c_in: int, c_out: int, batch: int, impl: str, repeats: int) -> str:
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((batch, h, h, c_in)), jnp.float32)
    kernel = jnp.asarray(0.02 * rng.standard_normal((4, 4, c_in, c_out)), jnp.float32)
    cotangent = jnp.asarray(rng.standard_normal((batch, 2 * h, 2 * h, c_out)), jnp.float32)
    layer = IMPLEMENTATIONS[impl]

    def loss(x: jax.Array, kernel: jax.Array) -> jax.Array:
        # A random linear functional: its gradients are exactly the layer's VJPs.
        return jnp.vdot(layer(x, kernel), cotangent)

    fns = {
        "fwd": jax.jit(layer),
        "dx": jax.jit(jax.grad(loss, 0)),
        "dk": jax.jit(jax.grad(loss, 1)),
        "all": jax.jit(jax.value_and_grad(loss, (0, 1))),
    }
    timings = {
        name: _time_ms(lambda f=f: jax.block_until_ready(f(x, kernel)), repeats)
        for name, f in fns.items()
    }
    return _row(f"{h}x{h}x{c_in}->{2 * h}x{2 * h}x{c_out}", impl, timings)


def bench_torch(h: int, c_in: int, c_out: int, batch: int, repeats: int) -> str:
    import torch

    layer = torch.nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False)
    x = torch.randn(batch, c_in, h, h, requires_grad=True)
    cotangent = torch.randn(batch, c_out, 2 * h, 2 * h)

    def forward() -> None:
        with torch.no_grad():
            layer(x)

    def forward_backward() -> None:
        x.grad, layer.weight.grad = None, None
        layer(x).backward(cotangent)

    timings = {"fwd": _time_ms(forward, repeats), "all": _time_ms(forward_backward, repeats)}
    name = f"torch{torch.__version__.split('+')[0]}-{torch.get_num_threads()}threads"
    return _row(f"{h}x{h}x{c_in}->{2 * h}x{2 * h}x{c_out}", name, timings)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5, help="timed calls after warm-up")
    parser.add_argument(
        "--impl", action="append", choices=sorted(IMPLEMENTATIONS), help="default: xla, phase"
    )
    parser.add_argument(
        "--layer", action="append", type=int, choices=range(len(DCGAN_LAYERS)), help="default: all"
    )
    parser.add_argument("--no-torch", action="store_true", help="skip torch even if importable")
    args = parser.parse_args(argv)
    impls = args.impl or ["xla", "phase"]
    layers = [DCGAN_LAYERS[i] for i in args.layer or range(len(DCGAN_LAYERS))]
    try:
        import torch  # noqa: F401

        with_torch = not args.no_torch
    except ImportError:
        with_torch = False
    print(json.dumps({"backend": jax.default_backend(), "jax": jax.__version__}), flush=True)
    for h, c_in, c_out in layers:
        for impl in impls:
            print(bench_jax(h, c_in, c_out, args.batch, impl, args.repeats), flush=True)
        if with_torch:
            print(bench_torch(h, c_in, c_out, args.batch, args.repeats), flush=True)


if __name__ == "__main__":
    main()
