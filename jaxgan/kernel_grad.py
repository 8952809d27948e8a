"""A 2-D convolution whose kernel gradient runs through oneDNN on the CPU.

XLA:CPU computes the kernel (weight) gradient of a convolution as another convolution, of the
layer's input with its output gradient, whose window is as large as the image and whose
output is the tiny kernel; that runs at 20-70 GFLOP/s where the machine does 180. oneDNN's
backward-weights kernels (PyTorch's on CPUs) run the same products at 95-140 GFLOP/s
(BENCHMARKS.md). So `conv` is the convolution as a pair of bilinear primitives that transpose
into each other:

- `conv_p(x, kernel)`: the convolution itself, lowered as `lax.conv_general_dilated`;
- `kernel_grad_p(x, output_grad)`: its transpose in the kernel, lowered on the CPU to
  jaxgan/native's oneDNN call (float32, where it is built) and elsewhere to what XLA's own
  autodiff computes.

Transposing `conv_p` in the input gives XLA's own input gradient, so forward pass and input
gradient are exactly XLA's. Because both primitives are bilinear, with JVP and transpose
rules for each argument, every order and mode of differentiation works (gradient penalties,
unrolled updates that differentiate through kernel gradients); vmap falls back to XLA.
"""

import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.extend.core import Primitive
from jax.interpreters import ad, batching, mlir

from jaxgan import native

Array = jax.Array
_DIMENSION_NUMBERS = ("NHWC", "HWIO", "NHWC")


def _conv(x, kernel, *, strides, padding, precision):
    return lax.conv_general_dilated(
        x, kernel, strides, padding, dimension_numbers=_DIMENSION_NUMBERS, precision=precision
    )


def _input_grad(output_grad, kernel, *, x_shape, strides, padding, precision):
    conv = functools.partial(_conv, strides=strides, padding=padding, precision=precision)
    x = jax.ShapeDtypeStruct(x_shape, output_grad.dtype)
    return jax.linear_transpose(lambda x: conv(x, kernel), x)(output_grad)[0]


def _xla_kernel_grad(x, output_grad, *, window, strides, padding, precision):
    """XLA's own kernel gradient: the transpose of the convolution in its kernel."""
    conv = functools.partial(_conv, strides=strides, padding=padding, precision=precision)
    kernel = jax.ShapeDtypeStruct((*window, x.shape[-1], output_grad.shape[-1]), x.dtype)
    return jax.linear_transpose(lambda kernel: conv(x, kernel), kernel)(output_grad)[0]


conv_p = Primitive("jaxgan_conv")
kernel_grad_p = Primitive("jaxgan_conv_kernel_grad")


def _conv_params(params):
    return {k: params[k] for k in ("strides", "padding", "precision")}


@conv_p.def_abstract_eval
def _conv_abstract_eval(x, kernel, **params):
    out = jax.eval_shape(functools.partial(_conv, **_conv_params(params)), x, kernel)
    return jax.core.ShapedArray(out.shape, out.dtype)


@kernel_grad_p.def_abstract_eval
def _kernel_grad_abstract_eval(x, output_grad, *, window, **params):
    return jax.core.ShapedArray((*window, x.shape[-1], output_grad.shape[-1]), x.dtype)


def _conv_input_transpose(cotangent, x, kernel, **params):
    return _input_grad(cotangent, kernel, x_shape=x.aval.shape, **_conv_params(params))


def _conv_kernel_transpose(cotangent, x, kernel, **params):
    return kernel_grad_p.bind(x, cotangent, window=kernel.aval.shape[:2], **params)


def _kernel_grad_input_transpose(cotangent, x, output_grad, *, window, **params):
    # <kernel_grad(x, g), c> = <conv(x, c), g>: in x this is conv's input gradient at kernel c.
    del window
    return _input_grad(output_grad, cotangent, x_shape=x.aval.shape, **_conv_params(params))


def _kernel_grad_output_transpose(cotangent, x, output_grad, *, window, **params):
    del window, output_grad
    return conv_p.bind(x, cotangent, **params)


ad.defbilinear(conv_p, _conv_input_transpose, _conv_kernel_transpose)
ad.defbilinear(kernel_grad_p, _kernel_grad_input_transpose, _kernel_grad_output_transpose)


def _conv_xla(x, kernel, **params):
    return _conv(x, kernel, **_conv_params(params))


def _kernel_grad_xla(x, output_grad, *, window, **params):
    return _xla_kernel_grad(x, output_grad, window=window, **_conv_params(params))


def _batch_with(function):
    # vmap (rare here) takes XLA's path: batching the oneDNN call would need a loop.
    def rule(args, dims, **params):
        return jax.vmap(functools.partial(function, **params), in_axes=dims)(*args), 0

    return rule


batching.primitive_batchers[conv_p] = _batch_with(_conv_xla)
batching.primitive_batchers[kernel_grad_p] = _batch_with(_kernel_grad_xla)

mlir.register_lowering(conv_p, mlir.lower_fun(_conv_xla, multiple_results=False))
_kernel_grad_xla_lowering = mlir.lower_fun(_kernel_grad_xla, multiple_results=False)
mlir.register_lowering(kernel_grad_p, _kernel_grad_xla_lowering)


def _kernel_grad_cpu_lowering(ctx, x, output_grad, *, window, strides, padding, **params):
    x_aval, g_aval = ctx.avals_in
    target = native.ffi_target() if params["implementation"] == "onednn" else None
    if target is None or x_aval.dtype != jnp.float32 or g_aval.dtype != jnp.float32:
        return _kernel_grad_xla_lowering(
            ctx, x, output_grad, window=window, strides=strides, padding=padding, **params
        )
    return jax.ffi.ffi_lowering(target)(
        ctx,
        x,
        output_grad,
        strides=np.asarray(strides, np.int64),
        padding=np.asarray([side for pair in padding for side in pair], np.int64),
        threads=np.int64(native.threads()),
    )


mlir.register_lowering(kernel_grad_p, _kernel_grad_cpu_lowering, platform="cpu")


@functools.cache
def _jitted(primitive: Primitive, params: tuple) -> Any:
    return jax.jit(functools.partial(primitive.bind, **dict(params)))


# Outside jit each primitive runs as its own small jitted computation.
conv_p.def_impl(lambda *args, **params: _jitted(conv_p, tuple(params.items()))(*args))
kernel_grad_p.def_impl(lambda *args, **params: _jitted(kernel_grad_p, tuple(params.items()))(*args))


def conv(
    x: Array,
    kernel: Array,
    strides: Sequence[int],
    padding: Sequence[tuple[int, int]],
    *,
    precision: Any = None,
    implementation: str = "onednn",
) -> Array:
    """Equals lax.conv_general_dilated(x, kernel, strides, padding, NHWC/HWIO/NHWC), with
    the kernel gradient through oneDNN on the CPU ('onednn') or XLA's own ('xla').

    padding is explicit (low, high) pairs; x and kernel share a dtype. The oneDNN call takes
    float32 and non-negative padding on the CPU; anything else takes XLA's path.
    """
    if implementation not in ("onednn", "xla"):
        raise ValueError(f"implementation must be 'onednn' or 'xla', got {implementation!r}")
    strides = tuple(int(s) for s in strides)
    padding = tuple((int(lo), int(hi)) for lo, hi in padding)
    if implementation == "xla" or min(side for pair in padding for side in pair) < 0:
        return _conv(x, kernel, strides=strides, padding=padding, precision=precision)
    return conv_p.bind(
        x,
        kernel,
        strides=strides,
        padding=padding,
        precision=precision,
        implementation=implementation,
    )
