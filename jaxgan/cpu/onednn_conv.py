"""A 2-D convolution whose three passes run through oneDNN on the CPU.

XLA:CPU (jax 0.10.2) computes a kernel (weight) gradient as another convolution, of the
layer's input with its output gradient, whose window is as large as the image and whose output
is the tiny kernel: 20-70 GFLOP/s where the machine does 180. oneDNN's backward-weights kernels
(PyTorch's on CPUs) run the same products at 95-190 GFLOP/s, and its forward and input-gradient
kernels beat XLA's on most of DCGAN's shapes too (BENCHMARKS.md). So `conv` is a convolution
made of three primitives, each bilinear, each the transpose of the others in one argument:

- `conv_p(x, kernel) -> y`, the convolution;
- `input_grad_p(y_grad, kernel) -> x_grad`, its transpose in x;
- `kernel_grad_p(x, y_grad) -> kernel_grad`, its transpose in the kernel.

On the CPU each lowers to jaxgan/cpu/native's oneDNN call (float32, where it is built); elsewhere,
and for other dtypes, to exactly what XLA's own convolution and autodiff compute. Because each
primitive has a JVP and a transpose rule for both arguments, every order and mode of
differentiation works (gradient penalties; unrolled updates, which differentiate kernel
gradients); vmap takes XLA's path.
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

from jaxgan.cpu import native

Array = jax.Array
_DIMENSION_NUMBERS = ("NHWC", "HWIO", "NHWC")

conv_p = Primitive("jaxgan_conv")
input_grad_p = Primitive("jaxgan_conv_input_grad")
kernel_grad_p = Primitive("jaxgan_conv_kernel_grad")

# Every primitive carries the convolution's settings as `conv`: (strides, padding, precision,
# flipped), flipped saying whether the kernel operand is a transposed convolution's Flax
# kernel (see conv_transpose); the other operand's shape where its output needs it
# (`x_shape`, `window`); and `implementation` ('onednn' or 'xla'), read when lowering.


def _xla_conv(x, kernel, *, conv):
    strides, padding, precision, flipped = conv
    if flipped:
        kernel = jnp.flip(kernel, (0, 1)).swapaxes(2, 3)
    return lax.conv_general_dilated(
        x, kernel, strides, padding, dimension_numbers=_DIMENSION_NUMBERS, precision=precision
    )


def _xla_input_grad(y_grad, kernel, *, conv, x_shape):
    x = jax.ShapeDtypeStruct(x_shape, y_grad.dtype)
    return jax.linear_transpose(lambda x: _xla_conv(x, kernel, conv=conv), x)(y_grad)[0]


def _xla_kernel_grad(x, y_grad, *, conv, window):
    flipped = conv[3]
    channels = (y_grad.shape[-1], x.shape[-1]) if flipped else (x.shape[-1], y_grad.shape[-1])
    kernel = jax.ShapeDtypeStruct((*window, *channels), x.dtype)
    return jax.linear_transpose(lambda k: _xla_conv(x, k, conv=conv), kernel)(y_grad)[0]


_XLA = {conv_p: _xla_conv, input_grad_p: _xla_input_grad, kernel_grad_p: _xla_kernel_grad}
_PASS = {conv_p: "forward", input_grad_p: "input_grad", kernel_grad_p: "kernel_grad"}


def _bind(primitive, a, b, *, conv, implementation, **shape):
    return primitive.bind(a, b, conv=conv, implementation=implementation, **shape)


# The six transposes: in each, one operand is the unknown (an ad.UndefinedPrimal with .aval).
def _conv_t_x(g, x, kernel, *, conv, implementation):
    shape = {"x_shape": x.aval.shape}
    return _bind(input_grad_p, g, kernel, conv=conv, implementation=implementation, **shape)


def _conv_t_kernel(g, x, kernel, *, conv, implementation):
    window = {"window": kernel.aval.shape[:2]}
    return _bind(kernel_grad_p, x, g, conv=conv, implementation=implementation, **window)


def _input_grad_t_y(g, y_grad, kernel, *, conv, implementation, x_shape):
    return _bind(conv_p, g, kernel, conv=conv, implementation=implementation)


def _input_grad_t_kernel(g, y_grad, kernel, *, conv, implementation, x_shape):
    window = {"window": kernel.aval.shape[:2]}
    return _bind(kernel_grad_p, g, y_grad, conv=conv, implementation=implementation, **window)


def _kernel_grad_t_x(g, x, y_grad, *, conv, implementation, window):
    shape = {"x_shape": x.aval.shape}
    return _bind(input_grad_p, y_grad, g, conv=conv, implementation=implementation, **shape)


def _kernel_grad_t_y(g, x, y_grad, *, conv, implementation, window):
    return _bind(conv_p, x, g, conv=conv, implementation=implementation)


ad.defbilinear(conv_p, _conv_t_x, _conv_t_kernel)
ad.defbilinear(input_grad_p, _input_grad_t_y, _input_grad_t_kernel)
ad.defbilinear(kernel_grad_p, _kernel_grad_t_x, _kernel_grad_t_y)


def _register(primitive):
    xla = _XLA[primitive]

    def shapes_only(a, b, *, implementation, **params):
        del implementation
        return jax.eval_shape(functools.partial(xla, **params), a, b)

    @primitive.def_abstract_eval
    def _(a, b, **params):
        out = shapes_only(a, b, **params)
        return jax.core.ShapedArray(out.shape, out.dtype)

    def xla_path(a, b, *, implementation, **params):
        del implementation
        return xla(a, b, **params)

    # vmap (rare here) takes XLA's path: batching the oneDNN calls would need a loop.
    def batch(args, dims, **params):
        return jax.vmap(functools.partial(xla_path, **params), in_axes=dims)(*args), 0

    batching.primitive_batchers[primitive] = batch
    xla_lowering = mlir.lower_fun(xla_path, multiple_results=False)
    mlir.register_lowering(primitive, xla_lowering)

    def cpu_lowering(ctx, a, b, *, conv, implementation, **shape):
        a_aval, b_aval = ctx.avals_in
        targets = native.ffi_targets() if implementation == "onednn" else None
        # XLA's SPMD partitioner cannot split a custom call over a batch sharded across
        # devices: it would gather the whole batch onto every device. So a computation
        # partitioned over several devices keeps XLA's convolutions.
        partitioned = getattr(ctx.module_context.axis_context, "num_devices", 1) > 1
        if (
            targets is None
            or partitioned
            or any(aval.dtype != jnp.float32 for aval in ctx.avals_in)
        ):
            return xla_lowering(ctx, a, b, conv=conv, implementation=implementation, **shape)
        strides, padding, _, flipped = conv
        # The convolution's input and output (or their gradients), NHWC.
        x = {conv_p: a_aval, input_grad_p: ctx.avals_out[0], kernel_grad_p: a_aval}[primitive]
        y = {conv_p: ctx.avals_out[0], input_grad_p: a_aval, kernel_grad_p: b_aval}[primitive]
        return jax.ffi.ffi_lowering(targets[_PASS[primitive]])(
            ctx,
            a,
            b,
            strides=np.asarray(strides, np.int64),
            padding=np.asarray([side for pair in padding for side in pair], np.int64),
            threads=np.int64(native.threads()),
            flipped=np.int64(flipped),
            product=np.int64(_as_product(primitive, x.shape, y.shape, flipped)),
        )

    mlir.register_lowering(primitive, cpu_lowering, platform="cpu")

    # Outside jit each primitive runs as its own small jitted computation.
    @functools.cache
    def jitted(params):
        return jax.jit(functools.partial(primitive.bind, **dict(params)))

    primitive.def_impl(lambda a, b, **params: jitted(tuple(params.items()))(a, b))


def _as_product(primitive, x_shape, y_shape, flipped) -> bool:
    """Whether a pass runs as one matrix product (jaxgan/cpu/native/onednn_conv.cc's "Small output
    maps and image gradients"), where that measured faster than oneDNN's convolution kernels
    (BENCHMARKS.md): on output maps of at most native.gemm_max_map() pixels, except a
    transposed convolution's kernel in the forward pass (its product needs the kernel
    transposed); and the input gradient of an image of at most 4 channels (D's first layer;
    G's last, whose forward pass it is). None at all when gemm_max_map() is 0.
    x_shape, y_shape: the convolution's input and output (NHWC)."""
    if native.gemm_max_map() == 0:
        return False
    if primitive is input_grad_p and x_shape[-1] <= 4:
        return True
    small = y_shape[1] * y_shape[2] <= native.gemm_max_map()
    return small and not (flipped and primitive is conv_p)


for _primitive in _XLA:
    _register(_primitive)


def runs_natively(dtype: Any) -> bool:
    """Whether `conv` and `conv_transpose` on arrays of `dtype` become oneDNN calls here (on
    one device): float32 on a CPU where jaxgan/cpu/native is built. Elsewhere they compute the
    same through XLA, and a caller may prefer its own XLA lowering."""
    return (
        jnp.dtype(dtype) == jnp.float32
        and jax.default_backend() == "cpu"
        and native.ffi_targets() is not None
    )


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
    every pass through oneDNN on the CPU ('onednn') or XLA's own ('xla').

    padding is explicit (low, high) pairs; x and kernel share a dtype. The oneDNN calls take
    float32 and non-negative padding on the CPU; anything else takes XLA's path.
    """
    if implementation not in ("onednn", "xla"):
        raise ValueError(f"implementation must be 'onednn' or 'xla', got {implementation!r}")
    settings = (
        tuple(int(s) for s in strides),
        tuple((int(lo), int(hi)) for lo, hi in padding),
        precision,
        False,
    )
    if implementation == "xla" or min(side for pair in settings[1] for side in pair) < 0:
        return _xla_conv(x, kernel, conv=settings)
    return conv_p.bind(x, kernel, conv=settings, implementation=implementation)


def conv_transpose(
    x: Array,
    kernel: Array,
    strides: Sequence[int],
    padding: Sequence[tuple[int, int]],
    *,
    precision: Any = None,
) -> Array | None:
    """Equals lax.conv_transpose(x, kernel, strides, padding, NHWC/HWIO/NHWC) (Flax's
    nn.ConvTranspose, transpose_kernel=False), or None where the padding does not allow
    what follows.

    A transposed convolution is the input gradient of a strided convolution: the one with the
    kernel flipped in space and its channel axes swapped, padded by kernel - 1 - padding on
    each side (which must not be negative). So its three passes are this module's three
    primitives in another order, each one oneDNN call on the CPU. The kernel goes in as it is
    (`flipped`): the flip and swap happen inside the calls, cheaper than in XLA.
    """
    kh, kw, _, c_out = kernel.shape
    conv_padding = tuple(
        (taps - 1 - lo, taps - 1 - hi) for taps, (lo, hi) in zip((kh, kw), padding, strict=True)
    )
    if min(side for pair in conv_padding for side in pair) < 0:
        return None
    sizes = zip(x.shape[1:3], strides, (kh, kw), padding, strict=True)
    out = [(size - 1) * stride + lo + hi - taps + 2 for size, stride, taps, (lo, hi) in sizes]
    settings = (tuple(int(s) for s in strides), conv_padding, precision, True)
    return input_grad_p.bind(
        x,
        kernel,
        conv=settings,
        implementation="onednn",
        x_shape=(x.shape[0], *out, c_out),
    )
