"""jaxgan.kernel_grad: a convolution whose kernel gradient is oneDNN's on the CPU equals
lax.conv_general_dilated in value and in every derivative, and the oneDNN call is really
made (the layers' own tests, tests/test_layers.py, run through it too)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from jaxgan import kernel_grad, native

# float32: oneDNN sums the products in another order. Measured worst max|difference| /
# max|reference| over these cases: 3.4e-7 (first order), 2.9e-7 (second order).
RTOL = 2e-6

# (input NHWC, kernel HWIO, strides, padding): DCGAN's layers at small sizes, a stride-1
# phase convolution with one-sided padding, odd shapes and unequal strides.
CASES = [
    ((2, 8, 8, 3), (4, 4, 3, 5), (2, 2), ((1, 1), (1, 1))),
    ((3, 5, 4, 4), (2, 2, 4, 6), (1, 1), ((1, 0), (0, 1))),
    ((3, 9, 7, 5), (4, 3, 5, 6), (2, 1), ((1, 2), (0, 1))),
    ((1, 6, 6, 2), (3, 3, 2, 1), (3, 2), ((0, 0), (2, 2))),
]


def _normal(seed, shape):
    return jnp.asarray(np.random.default_rng(seed).standard_normal(shape), jnp.float32)


def _assert_close(actual, expected):
    for a, e in zip(jax.tree.leaves(actual), jax.tree.leaves(expected), strict=True):
        e = np.asarray(e)
        scale = float(np.max(np.abs(e))) or 1.0
        np.testing.assert_allclose(np.asarray(a), e, rtol=RTOL, atol=RTOL * scale)


def _pair(strides, padding):
    def ours(x, k):
        return kernel_grad.conv(x, k, strides, padding, implementation="onednn")

    def reference(x, k):
        return lax.conv_general_dilated(
            x, k, strides, padding, dimension_numbers=("NHWC", "HWIO", "NHWC")
        )

    return ours, reference


def _loss(conv):
    return lambda x, k: jnp.sum(jnp.tanh(conv(x, k)) ** 2)


def test_the_native_kernel_builds_here():
    # CI runs on x86-64 Linux with a compiler and oneDNN installed: a silent fallback to
    # XLA's kernel gradients there would leave the oneDNN path untested.
    if jax.default_backend() != "cpu":
        pytest.skip("the oneDNN kernel is for the CPU")
    assert native.ffi_target() == native.CONV_KERNEL_GRAD


@pytest.mark.parametrize("x_shape, k_shape, strides, padding", CASES)
def test_values_and_first_order_gradients_match(x_shape, k_shape, strides, padding):
    ours, reference = _pair(strides, padding)
    x, k = _normal(0, x_shape), _normal(1, k_shape)

    @jax.jit
    def both(x, k):
        return [(conv(x, k), jax.grad(_loss(conv), (0, 1))(x, k)) for conv in (ours, reference)]

    _assert_close(*both(x, k))
    compiled = jax.jit(jax.grad(_loss(ours), 1)).lower(x, k).compile().as_text()
    assert ('custom_call_target="jaxgan_conv_kernel_grad"' in compiled) == (
        native.ffi_target() is not None
    )


def test_no_kernel_gradient_is_computed_when_only_the_input_is_differentiated():
    ours, _ = _pair(*CASES[0][2:])
    x, k = _normal(0, CASES[0][0]), _normal(1, CASES[0][1])
    compiled = jax.jit(jax.grad(_loss(ours), 0)).lower(x, k).compile().as_text()
    assert "jaxgan_conv_kernel_grad" not in compiled


@pytest.mark.parametrize("case", [CASES[0], CASES[2]])
def test_higher_order_and_forward_mode_match(case):
    x_shape, k_shape, strides, padding = case
    ours, reference = _pair(strides, padding)
    x, k = _normal(0, x_shape), _normal(1, k_shape)
    tx, tk = _normal(2, x_shape), _normal(3, k_shape)

    @jax.jit
    def derivatives(x, k):
        def run(conv):
            loss = _loss(conv)
            # A gradient penalty (kernel gradient of an input gradient) and what unrolled
            # updates need (input gradient of a kernel gradient), then forward mode.
            penalty = jax.grad(lambda x, k: jnp.sum(jax.grad(loss, 0)(x, k) ** 2), (0, 1))
            unrolled = jax.grad(lambda x, k: jnp.sum(jax.grad(loss, 1)(x, k) ** 2), (0, 1))
            forward = jax.jvp(loss, (x, k), (tx, tk))
            forward_of_grad = jax.jvp(jax.grad(loss, 1), (x, k), (tx, tk))
            return penalty(x, k), unrolled(x, k), forward, forward_of_grad

        return run(ours), run(reference)

    _assert_close(*derivatives(x, k))


def test_vmap_and_eager_calls_match():
    x_shape, k_shape, strides, padding = CASES[1]
    ours, reference = _pair(strides, padding)
    xs, k = _normal(0, (2, *x_shape)), _normal(1, k_shape)
    grads = [
        jax.vmap(jax.grad(_loss(conv), (0, 1)), (0, None))(xs, k) for conv in (ours, reference)
    ]
    _assert_close(*grads)
    # Outside jit every primitive runs as its own small computation.
    _assert_close(
        jax.grad(_loss(ours), (0, 1))(xs[0], k), jax.grad(_loss(reference), (0, 1))(xs[0], k)
    )


def test_xla_choice_bf16_and_negative_padding_take_xlas_path():
    x, k = _normal(0, (2, 6, 6, 3)), _normal(1, (3, 3, 3, 4))
    for dtype, padding, implementation in [
        (jnp.float32, ((1, 1), (1, 1)), "xla"),
        (jnp.bfloat16, ((1, 1), (1, 1)), "onednn"),
        (jnp.float32, ((-1, 2), (1, 1)), "onednn"),
    ]:
        xd, kd = x.astype(dtype), k.astype(dtype)

        def conv(x, k, padding=padding, implementation=implementation):
            return kernel_grad.conv(x, k, (1, 1), padding, implementation=implementation)

        compiled = jax.jit(jax.grad(_loss(conv), 1)).lower(xd, kd).compile().as_text()
        assert "jaxgan_conv_kernel_grad" not in compiled, (dtype, padding, implementation)
    with pytest.raises(ValueError, match="'onednn' or 'xla'"):
        kernel_grad.conv(x, k, (1, 1), ((1, 1), (1, 1)), implementation="fast")
