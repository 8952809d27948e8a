"""jaxgan.cpu.onednn_conv: convolutions whose passes are oneDNN's on the CPU equal
lax.conv_general_dilated and lax.conv_transpose in value and in every derivative, and the
oneDNN calls are really made (the layers' own tests, tests/test_layers.py, run through them
too)."""

import os
import re
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from jaxgan.cpu import native, onednn_conv

# float32: oneDNN sums the products in another order. Measured worst max|difference| /
# max|reference| over these cases: 5.8e-7.
RTOL = 2e-6
# Second-order and forward-mode values (gradient penalties, unrolled updates) sum products
# of two convolutions' results, each rounded in its own summation order: on an AMD EPYC
# (oneDNN's AVX2 kernels) they differ from XLA's by up to 4.1e-6 of the largest value.
DERIVATIVES_RTOL = 2e-5
DIMENSIONS = ("NHWC", "HWIO", "NHWC")
ALL_PASSES = ["jaxgan_conv_forward", "jaxgan_conv_input_grad", "jaxgan_conv_kernel_grad"]

# (input NHWC, kernel HWIO, strides, padding): DCGAN's layers at small sizes, a stride-1
# phase convolution with one-sided padding, odd shapes and unequal strides.
CASES = [
    ((2, 8, 8, 3), (4, 4, 3, 5), (2, 2), ((1, 1), (1, 1))),
    ((3, 5, 4, 4), (2, 2, 4, 6), (1, 1), ((1, 0), (0, 1))),
    ((3, 9, 7, 5), (4, 3, 5, 6), (2, 1), ((1, 2), (0, 1))),
    ((1, 6, 6, 2), (3, 3, 2, 1), (3, 2), ((0, 0), (2, 2))),
]
# The same for lax.conv_transpose / nn.ConvTranspose (transpose_kernel=False).
TRANSPOSED_CASES = [
    ((2, 4, 4, 8), (4, 4, 8, 5), (2, 2), ((2, 2), (2, 2))),  # DCGAN's: PyTorch's k4 s2 p1
    ((3, 5, 7, 3), (3, 3, 3, 4), (2, 2), ((1, 2), (1, 2))),
    ((1, 5, 4, 2), (5, 4, 2, 3), (3, 2), ((0, 3), (2, 2))),
]


def _normal(seed, shape):
    return jnp.asarray(np.random.default_rng(seed).standard_normal(shape), jnp.float32)


def _assert_close(actual, expected, rtol=RTOL):
    for a, e in zip(jax.tree.leaves(actual), jax.tree.leaves(expected), strict=True):
        e = np.asarray(e)
        scale = float(np.max(np.abs(e))) or 1.0
        np.testing.assert_allclose(np.asarray(a), e, rtol=rtol, atol=rtol * scale)


def _pair(strides, padding):
    def ours(x, k):
        return onednn_conv.conv(x, k, strides, padding, implementation="onednn")

    def reference(x, k):
        return lax.conv_general_dilated(x, k, strides, padding, dimension_numbers=DIMENSIONS)

    return ours, reference


def _loss(conv):
    return lambda x, k: jnp.sum(jnp.tanh(conv(x, k)) ** 2)


def _library_calls(function, *args):
    compiled = jax.jit(function).lower(*args).compile().as_text()
    return sorted(set(re.findall(r'custom_call_target="(jaxgan_\w+)"', compiled)))


def _as_products(function, *args) -> dict[str, bool]:
    """Each oneDNN call's target -> whether it runs as one matrix product."""
    compiled = jax.jit(function).lower(*args).compile().as_text()
    calls = re.findall(r'custom_call_target="(jaxgan_\w+)".*?product = (\d)', compiled)
    return {target: product == "1" for target, product in calls}


@pytest.fixture(params=["convolution", "product"])
def algorithm(request, monkeypatch):
    """Every oneDNN call through its convolution kernels, or every one that can as a matrix
    product of the patch matrix (jaxgan/cpu/native/onednn_conv.cc)."""
    largest = "0" if request.param == "convolution" else "1000000"
    monkeypatch.setenv("JAXGAN_ONEDNN_GEMM_MAX_MAP", largest)
    jax.clear_caches()  # compiled calls keep the choice made when they were lowered
    yield request.param
    jax.clear_caches()


def _both(ours, reference):
    @jax.jit
    def run(x, k):
        return [(c(x, k), jax.grad(_loss(c), (0, 1))(x, k)) for c in (ours, reference)]

    return run


def test_the_native_kernels_build_here():
    # CI runs on x86-64 Linux with a compiler and oneDNN installed: a silent fallback to
    # XLA's convolutions there would leave the oneDNN path untested.
    if jax.default_backend() != "cpu":
        pytest.skip("the oneDNN kernels are for the CPU")
    assert sorted(native.ffi_targets().values()) == ALL_PASSES


@pytest.mark.parametrize("x_shape, k_shape, strides, padding", CASES)
def test_values_and_first_order_gradients_match(x_shape, k_shape, strides, padding, algorithm):
    ours, reference = _pair(strides, padding)
    x, k = _normal(0, x_shape), _normal(1, k_shape)
    _assert_close(*_both(ours, reference)(x, k))
    products = _as_products(jax.grad(_loss(ours), (0, 1)), x, k)
    assert sorted(products) == ALL_PASSES
    assert set(products.values()) == {algorithm == "product"}


def test_small_output_maps_and_image_gradients_take_the_matrix_product():
    # DCGAN's layers: 8x8 -> 4x4 (D's last strided convolution, G's first transposed one)
    # takes the product, 16x16 -> 8x8 the convolution kernels, and so does a 3-channel image's
    # layer but for its input gradient; a transposed convolution's forward pass always takes
    # the kernels.
    for x_shape, expected in [
        ((2, 8, 8, 8), dict.fromkeys(ALL_PASSES, True)),
        ((2, 16, 16, 8), dict.fromkeys(ALL_PASSES, False)),
        ((2, 16, 16, 3), {**dict.fromkeys(ALL_PASSES, False), "jaxgan_conv_input_grad": True}),
    ]:
        x, k = _normal(0, x_shape), _normal(1, (4, 4, x_shape[-1], 8))
        ours, _ = _pair((2, 2), ((1, 1), (1, 1)))
        assert _as_products(jax.grad(_loss(ours), (0, 1)), x, k) == expected, x_shape

    def up(x, k):
        return onednn_conv.conv_transpose(x, k, (2, 2), ((2, 2), (2, 2)))

    x, k = _normal(0, (2, 4, 4, 8)), _normal(1, (4, 4, 8, 5))
    assert _as_products(jax.grad(_loss(up), (0, 1)), x, k) == {
        "jaxgan_conv_forward": False,  # up's input gradient
        "jaxgan_conv_input_grad": True,  # up itself
        "jaxgan_conv_kernel_grad": True,
    }


def test_only_the_gradients_asked_for_are_computed():
    ours, _ = _pair(*CASES[0][2:])
    x, k = _normal(0, CASES[0][0]), _normal(1, CASES[0][1])
    assert _library_calls(jax.grad(_loss(ours), 0), x, k) == ALL_PASSES[:2]
    assert _library_calls(jax.grad(_loss(ours), 1), x, k) == ALL_PASSES[::2]


def _assert_derivatives_match(ours, reference, x_shape, k_shape):
    """Higher-order, forward-mode and vmapped derivatives of `ours` equal `reference`'s."""
    x, k = _normal(0, x_shape), _normal(1, k_shape)
    tx, tk = _normal(2, x_shape), _normal(3, k_shape)

    @jax.jit
    def derivatives(x, k):
        def run(conv):
            loss = _loss(conv)
            # A gradient penalty (kernel gradient of an input gradient) and what unrolled
            # updates need (input gradient of a kernel gradient), then forward mode and vmap.
            penalty = jax.grad(lambda x, k: jnp.sum(jax.grad(loss, 0)(x, k) ** 2), (0, 1))
            unrolled = jax.grad(lambda x, k: jnp.sum(jax.grad(loss, 1)(x, k) ** 2), (0, 1))
            forward = jax.jvp(loss, (x, k), (tx, tk))
            forward_of_grad = jax.jvp(jax.grad(loss, 1), (x, k), (tx, tk))
            batched = jax.vmap(jax.grad(loss, (0, 1)), (0, None))(jnp.stack([x, -x]), k)
            return penalty(x, k), unrolled(x, k), forward, forward_of_grad, batched

        return run(ours), run(reference)

    _assert_close(*derivatives(x, k), rtol=DERIVATIVES_RTOL)


@pytest.mark.parametrize("case", [CASES[0], CASES[2], CASES[3]])
def test_higher_order_and_forward_mode_match(case, algorithm):
    x_shape, k_shape, strides, padding = case
    _assert_derivatives_match(*_pair(strides, padding), x_shape, k_shape)


def test_vmap_and_eager_calls_match(algorithm):
    x_shape, k_shape, strides, padding = CASES[1]
    ours, reference = _pair(strides, padding)
    xs, k = _normal(0, (2, *x_shape)), _normal(1, k_shape)
    batched = [jax.vmap(jax.grad(_loss(c), (0, 1)), (0, None))(xs, k) for c in (ours, reference)]
    _assert_close(*batched)
    # Outside jit every primitive runs as its own small computation.
    eager = [jax.grad(_loss(c), (0, 1))(xs[0], k) for c in (ours, reference)]
    _assert_close(*eager)


def test_xla_choice_bf16_and_negative_padding_take_xlas_path():
    x, k = _normal(0, (2, 6, 6, 3)), _normal(1, (3, 3, 3, 4))
    for dtype, padding, implementation in [
        (jnp.float32, ((1, 1), (1, 1)), "xla"),
        (jnp.bfloat16, ((1, 1), (1, 1)), "onednn"),
        (jnp.float32, ((-1, 2), (1, 1)), "onednn"),
    ]:

        def conv(x, k, padding=padding, implementation=implementation):
            return onednn_conv.conv(x, k, (1, 1), padding, implementation=implementation)

        xd, kd = x.astype(dtype), k.astype(dtype)
        assert not _library_calls(jax.grad(_loss(conv), (0, 1)), xd, kd), (dtype, padding)
    with pytest.raises(ValueError, match="'onednn' or 'xla'"):
        onednn_conv.conv(x, k, (1, 1), ((1, 1), (1, 1)), implementation="fast")


@pytest.mark.parametrize("x_shape, k_shape, strides, padding", TRANSPOSED_CASES)
def test_conv_transpose_matches_lax(x_shape, k_shape, strides, padding, algorithm):
    x, k = _normal(0, x_shape), _normal(1, k_shape)

    def ours(x, k):
        return onednn_conv.conv_transpose(x, k, strides, padding)

    def reference(x, k):
        return lax.conv_transpose(x, k, strides, padding, dimension_numbers=DIMENSIONS)

    _assert_close(*_both(ours, reference)(x, k))
    assert _library_calls(jax.grad(_loss(ours), (0, 1)), x, k) == ALL_PASSES


def test_conv_transpose_declines_padding_above_kernel_minus_one():
    x, k = _normal(0, (1, 4, 4, 2)), _normal(1, (3, 3, 2, 2))
    assert onednn_conv.conv_transpose(x, k, (2, 2), ((3, 1), (1, 1))) is None


_PARTITIONED = """
import re, jax, jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec as P
from jaxgan.cpu import onednn_conv
mesh = jax.make_mesh((2,), ("data",))
x, k = jnp.ones((4, 8, 8, 3)), jnp.ones((4, 4, 3, 5))
loss = lambda x, k: jnp.sum(onednn_conv.conv(x, k, (2, 2), ((1, 1), (1, 1))) ** 2)
for shardings in [(NamedSharding(mesh, P("data")), NamedSharding(mesh, P())), None]:
    grad = jax.jit(jax.grad(loss, (0, 1)), in_shardings=shardings)
    print(len(set(re.findall('custom_call_target="jaxgan_', grad.lower(x, k).compile().as_text()))))
"""


def test_a_batch_sharded_over_devices_keeps_xlas_convolutions():
    # XLA's partitioner would gather the whole batch onto every device for a custom call.
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    result = subprocess.run(
        [sys.executable, "-c", _PARTITIONED], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # Over 2 devices: no oneDNN call; the same step on one device: all of them.
    expected = "0\n1\n" if native.ffi_targets() else "0\n0\n"
    assert result.stdout == expected


@pytest.mark.parametrize("case", [TRANSPOSED_CASES[0], TRANSPOSED_CASES[1]])
def test_conv_transpose_higher_order_vmap_and_forward_mode_match(case, algorithm):
    x_shape, k_shape, strides, padding = case

    def ours(x, k):
        return onednn_conv.conv_transpose(x, k, strides, padding)

    def reference(x, k):
        return lax.conv_transpose(x, k, strides, padding, dimension_numbers=DIMENSIONS)

    _assert_derivatives_match(ours, reference, x_shape, k_shape)


# Each setting's reader, settings it refuses, and settings it takes (None: unset).
SETTINGS = {
    "JAXGAN_ONEDNN_THREADS": (native.threads, ["two", "0", "-1"], {"3": 3}),
    "JAXGAN_ONEDNN_GEMM_MAX_MAP": (
        native.gemm_max_map,
        ["sixteen", "-1", "4.5"],
        {"0": 0, None: 16},
    ),
}


REFUSED = [(name, bad) for name, (_, refused, _) in SETTINGS.items() for bad in refused]


@pytest.mark.parametrize("variable, setting", REFUSED)
def test_a_bad_setting_is_named(monkeypatch, variable, setting):
    from jaxgan.runtime.errors import UserError

    read, _, taken = SETTINGS[variable]
    monkeypatch.setenv(variable, setting)
    with pytest.raises(UserError, match=f"{variable}='.*': give a whole number"):
        read()
    for value, expected in taken.items():
        if value is None:
            monkeypatch.delenv(variable)
        else:
            monkeypatch.setenv(variable, value)
        assert read() == expected
