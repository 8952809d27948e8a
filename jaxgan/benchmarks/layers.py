"""Times the layer implementations on the DCGAN generator's and discriminator's strided layers.

Run ``python -m jaxgan.benchmarks.layers``: one JSON line per (layer, implementation) with the
median and the minimum, in ms, of jitted forward, input gradient, kernel gradient and forward
plus both gradients, and the 1-minute load average when the row finished (a busy machine
inflates medians; the minimum is the steadier figure then). If torch is importable, also
ConvTranspose2d / Conv2d (k=4, s=2, p=1) forward and forward+backward on the same shapes.
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

from jaxgan.cpu import onednn_conv
from jaxgan.nn.layers import (
    conv_input_grad_space_to_depth,
    conv_space_to_depth,
    conv_transpose_phase,
)

# (H = W, in channels, out channels) of pytorch/examples' DCGAN (ngf = ndf = 64, nc=3) strided
# layers, 4x4 kernels: the generator's double H and W, the discriminator's halve them.
DCGAN_LAYERS = {
    "generator": ((4, 512, 256), (8, 256, 128), (16, 128, 64), (32, 64, 3)),
    "discriminator": ((64, 3, 64), (32, 64, 128), (16, 128, 256), (8, 256, 512)),
}
STRIDES, UP_PADDING, DOWN_PADDING = (2, 2), ((2, 2), (2, 2)), ((1, 1), (1, 1))
_DN = ("NHWC", "HWIO", "NHWC")

# What UpsampleConvTranspose / DownsampleConv run ('xla', 'phase', 'space_to_depth', 'onednn'), and
# variants kept for comparison.
IMPLEMENTATIONS: dict[str, dict[str, Callable[[jax.Array, jax.Array], jax.Array]]] = {
    "generator": {
        "xla": lambda x, k: lax.conv_transpose(x, k, STRIDES, UP_PADDING, dimension_numbers=_DN),
        "phase": lambda x, k: conv_transpose_phase(x, k, STRIDES, UP_PADDING),
        "onednn": lambda x, k: onednn_conv.conv_transpose(x, k, STRIDES, UP_PADDING),
        "phase-shared": lambda x, k: conv_transpose_phase(
            x, k, STRIDES, UP_PADDING, packing="shared"
        ),
        "phase-union": lambda x, k: conv_transpose_phase(
            x, k, STRIDES, UP_PADDING, packing="union"
        ),
    },
    "discriminator": {
        "xla": lambda x, k: lax.conv_general_dilated(
            x, k, STRIDES, DOWN_PADDING, dimension_numbers=_DN
        ),
        "space_to_depth": lambda x, k: conv_input_grad_space_to_depth(x, k, STRIDES, DOWN_PADDING),
        "space_to_depth-all": lambda x, k: conv_space_to_depth(x, k, STRIDES, DOWN_PADDING),
        "onednn": lambda x, k: onednn_conv.conv(x, k, STRIDES, DOWN_PADDING),
    },
}
DEFAULT_IMPLEMENTATIONS = {
    "generator": ["xla", "phase", "onednn"],
    "discriminator": ["xla", "space_to_depth", "onednn"],
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


def _row(net: str, layer: str, impl: str, timings: dict[str, tuple[float, float]]) -> str:
    row: dict[str, object] = {"net": net, "layer": layer, "impl": impl}
    for name, (median, minimum) in timings.items():
        row[f"{name}_ms"] = round(median, 1)
        row[f"{name}_min_ms"] = round(minimum, 1)
    row["load1"] = round(os.getloadavg()[0], 2)
    return json.dumps(row)


def _out_size(net: str, h: int) -> int:
    return 2 * h if net == "generator" else h // 2


def bench_jax(net: str, h: int, c_in: int, c_out: int, batch: int, impl: str, repeats: int) -> str:
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((batch, h, h, c_in)), jnp.float32)
    kernel = jnp.asarray(0.02 * rng.standard_normal((4, 4, c_in, c_out)), jnp.float32)
    o = _out_size(net, h)
    cotangent = jnp.asarray(rng.standard_normal((batch, o, o, c_out)), jnp.float32)
    layer = IMPLEMENTATIONS[net][impl]

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
    return _row(net, f"{h}x{h}x{c_in}->{o}x{o}x{c_out}", impl, timings)


def bench_torch(net: str, h: int, c_in: int, c_out: int, batch: int, repeats: int) -> str:
    import torch

    cls = torch.nn.ConvTranspose2d if net == "generator" else torch.nn.Conv2d
    layer = cls(c_in, c_out, 4, stride=2, padding=1, bias=False)
    x = torch.randn(batch, c_in, h, h, requires_grad=True)
    o = _out_size(net, h)
    cotangent = torch.randn(batch, c_out, o, o)

    def forward() -> None:
        with torch.no_grad():
            layer(x)

    def forward_backward() -> None:
        x.grad, layer.weight.grad = None, None
        layer(x).backward(cotangent)

    timings = {"fwd": _time_ms(forward, repeats), "all": _time_ms(forward_backward, repeats)}
    name = f"torch{torch.__version__.split('+')[0]}-{torch.get_num_threads()}threads"
    return _row(net, f"{h}x{h}x{c_in}->{o}x{o}x{c_out}", name, timings)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", choices=["generator", "discriminator", "both"], default="both")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5, help="timed calls after warm-up")
    parser.add_argument(
        "--impl",
        action="append",
        help="implementation name(s) of IMPLEMENTATIONS[net]; default: DEFAULT_IMPLEMENTATIONS",
    )
    parser.add_argument("--layer", action="append", type=int, choices=range(4), help="default: all")
    parser.add_argument("--no-torch", action="store_true", help="skip torch even if importable")
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401

        with_torch = not args.no_torch
    except ImportError:
        with_torch = False
    nets = ["generator", "discriminator"] if args.net == "both" else [args.net]
    print(json.dumps({"backend": jax.default_backend(), "jax": jax.__version__}), flush=True)
    for net in nets:
        impls = [i for i in args.impl or DEFAULT_IMPLEMENTATIONS[net] if i in IMPLEMENTATIONS[net]]
        for index in args.layer or range(4):
            h, c_in, c_out = DCGAN_LAYERS[net][index]
            for impl in impls:
                print(bench_jax(net, h, c_in, c_out, args.batch, impl, args.repeats), flush=True)
            if with_torch:
                print(bench_torch(net, h, c_in, c_out, args.batch, args.repeats), flush=True)


if __name__ == "__main__":
    main()
