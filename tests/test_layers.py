"""UpsampleConvTranspose and DownsampleConv equal nn.ConvTranspose and nn.Conv: values,
gradients, parameters."""

import re

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.nn.layers import (
    DownsampleConv,
    UpsampleConvTranspose,
    conv_space_to_depth,
    conv_transpose_phase,
    resolve_implementation,
)

# float32 on XLA:CPU: the rewrites sum the same products in another order. Measured worst
# max|difference| / max|reference| over these cases (outputs and both gradients): 4.1e-7 for
# UpsampleConvTranspose against nn.ConvTranspose (2.3e-7 against torch), 2.5e-7 for
# DownsampleConv against nn.Conv, second-order gradients included (1.4e-7 against torch).
RTOL = 1e-5

# (batch, H, W, in features, out features): odd/even, non-square, batch 1 and 3, 1/3/8 channels.
SHAPES = [
    (1, 4, 4, 8, 3),
    (3, 5, 7, 3, 8),
    (1, 1, 1, 1, 1),
    (3, 6, 3, 1, 8),
    (1, 7, 2, 8, 1),
]
# (kernel_size, strides, padding) beyond the DCGAN default: the plan is general.
CONFIGS = [
    ((3, 3), (2, 2), ((1, 2), (1, 2))),
    ((5, 4), (3, 2), ((0, 3), (2, 2))),
    ((2, 2), (3, 3), ((1, 0), (1, 1))),
    ((4, 4), (2, 2), ((3, 0), (1, 2))),
    ((4, 4), (1, 1), ((1, 2), (2, 1))),
    # low padding above kernel - 1: 'onednn' falls back to 'phase' here
    ((3, 3), (2, 2), ((3, 1), (0, 1))),
]


def _normal(seed: int, shape: tuple[int, ...]) -> jax.Array:
    # numpy, not jax.random: compiling a random sampler for every new shape costs ~1 s on 2 cores.
    return jnp.asarray(np.random.default_rng(seed).standard_normal(shape), jnp.float32)


def _assert_close(actual: jax.Array, expected: jax.Array) -> None:
    expected = np.asarray(expected)
    scale = float(np.max(np.abs(expected))) or 1.0
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=RTOL, atol=RTOL * scale)


def _reference(features: int, kernel_size=(4, 4), strides=(2, 2), padding=((2, 2), (2, 2))):
    return nn.ConvTranspose(features, kernel_size, strides=strides, padding=padding, use_bias=False)


def _check_against_reference(layer: nn.Module, reference: nn.Module, x: jax.Array) -> None:
    # A random normal kernel of nn.ConvTranspose's shape: its initializer is tested below.
    shapes = jax.eval_shape(reference.init, jax.random.key(1), x)
    params = jax.tree.map(lambda s: _normal(1, s.shape), shapes)
    cotangent = _normal(2, reference.apply(params, x).shape)

    @jax.jit  # one compilation per check: op-by-op gradients take seconds on 2 cores
    def outputs_and_grads(params, x):
        def run(module: nn.Module):
            # Gradients of a random linear functional are the layer's vector-Jacobian products.
            y, vjp = jax.vjp(module.apply, params, x)
            return y, *vjp(cotangent)

        return run(layer), run(reference)

    ours, theirs = outputs_and_grads(params, x)
    for actual, expected in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs), strict=True):
        _assert_close(actual, expected)


@pytest.mark.parametrize(
    "shape, implementation",
    [(s, i) for s in SHAPES for i in ("phase", "onednn")] + [(SHAPES[1], "xla")],
)
def test_dcgan_layer_matches_conv_transpose(shape, implementation):
    batch, h, w, c_in, c_out = shape
    x = _normal(0, (batch, h, w, c_in))
    layer = UpsampleConvTranspose(c_out, implementation=implementation)
    _check_against_reference(layer, _reference(c_out), x)
    out = jax.eval_shape(layer.apply, jax.eval_shape(layer.init, jax.random.key(1), x), x)
    assert out.shape == (batch, 2 * h, 2 * w, c_out)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("implementation", ["phase", "onednn"])
def test_other_kernels_strides_and_paddings_match(config, implementation):
    kernel_size, strides, padding = config
    x = _normal(0, (2, 5, 4, 3))
    layer = UpsampleConvTranspose(4, kernel_size, strides, padding, implementation=implementation)
    _check_against_reference(layer, _reference(4, kernel_size, strides, padding), x)


@pytest.mark.parametrize("packing", ["shared", "union"])
def test_packed_phase_variants_match(packing):
    x = _normal(0, (3, 5, 6, 3))
    for kernel_size, strides, padding in [((4, 4), (2, 2), ((2, 2), (2, 2))), CONFIGS[1]]:
        kernel = _normal(1, (*kernel_size, 3, 2))
        expected = jax.lax.conv_transpose(
            x, kernel, strides, padding, dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        phase = jax.jit(conv_transpose_phase, static_argnums=(2, 3), static_argnames="packing")
        _assert_close(phase(x, kernel, strides, padding, packing=packing), expected)


def test_param_trees_and_initial_values_equal_flax():
    x = jnp.ones((2, 6, 4, 7))
    pairs = [(UpsampleConvTranspose(4), _reference(4)), (DownsampleConv(4), _conv_reference(4))]
    # One jit for all four inits: compiling the truncated-normal sampler takes seconds.
    inits = jax.jit(lambda key: [(a.init(key, x), b.init(key, x)) for a, b in pairs])
    for ours, theirs in inits(jax.random.key(3)):
        assert jax.tree.structure(ours) == jax.tree.structure(theirs)
        assert jax.tree.map(jnp.shape, ours) == {"params": {"kernel": (4, 4, 7, 4)}}
        for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs), strict=True):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shape", [(5, 3, 2), (2, 3, 4, 5, 2)])
@pytest.mark.parametrize("implementation", ["phase", "onednn"])
def test_unbatched_and_extra_batch_dims_match(shape, implementation):
    x = _normal(0, shape)
    layer = UpsampleConvTranspose(3, implementation=implementation)
    _check_against_reference(layer, _reference(3), x)


@pytest.mark.parametrize("implementation", ["phase", "onednn"])
def test_dtype_promotion_matches(implementation):
    x = _normal(0, (2, 4, 4, 3))
    kwargs = dict(dtype=jnp.bfloat16, param_dtype=jnp.float32)
    ours = UpsampleConvTranspose(5, implementation=implementation, **kwargs)
    theirs = nn.ConvTranspose(5, (4, 4), (2, 2), ((2, 2), (2, 2)), use_bias=False, **kwargs)
    params = {"params": {"kernel": _normal(1, (4, 4, 3, 5))}}
    shapes = jax.eval_shape(ours.init, jax.random.key(1), x)
    assert shapes == jax.eval_shape(theirs.init, jax.random.key(1), x)
    assert shapes["params"]["kernel"].dtype == jnp.float32
    expected, actual = jax.jit(lambda p, x: (theirs.apply(p, x), ours.apply(p, x)))(params, x)
    assert actual.dtype == expected.dtype == jnp.bfloat16
    # bfloat16 rounding of differently ordered sums: a few ulps (2**-8) of the output scale.
    scale = float(jnp.max(jnp.abs(expected.astype(jnp.float32))))
    np.testing.assert_allclose(
        np.asarray(actual, np.float32), np.asarray(expected, np.float32), atol=0.05 * scale
    )


@pytest.mark.parametrize("implementation", ["phase", "onednn"])
def test_matches_torch_conv_transpose2d(implementation):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5, 6, 4)).astype(np.float32)  # NHWC
    weight = rng.standard_normal((4, 2, 4, 4)).astype(np.float32)  # torch: (in, out, kh, kw)
    # torch scatters x[i] * w[t] to output s*i - p + t; Flax (transpose_kernel=False) correlates
    # with the kernel, which puts k[t] at s*i + lo - t. So k = w flipped in both spatial axes,
    # laid out HWIO, with lo = kh - 1 - p: p=1 -> padding (2, 2).
    kernel = np.flip(weight.transpose(2, 3, 0, 1), (0, 1))
    layer = UpsampleConvTranspose(2, implementation=implementation)
    params = {"params": {"kernel": jnp.asarray(kernel)}}
    cotangent = rng.standard_normal((3, 10, 12, 2)).astype(np.float32)
    loss = lambda p, x: jnp.vdot(layer.apply(p, x), cotangent)  # noqa: E731
    dparams, dx = jax.jit(jax.grad(loss, (0, 1)))(params, jnp.asarray(x))

    tx = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    tlayer = torch.nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1, bias=False)
    with torch.no_grad():
        tlayer.weight.copy_(torch.tensor(weight))
    ty = tlayer(tx)
    ty.backward(torch.tensor(cotangent.transpose(0, 3, 1, 2)))
    _assert_close(jax.jit(layer.apply)(params, x), ty.detach().numpy().transpose(0, 2, 3, 1))
    _assert_close(dx, tx.grad.numpy().transpose(0, 2, 3, 1))
    torch_dkernel = np.flip(tlayer.weight.grad.numpy().transpose(2, 3, 0, 1), (0, 1))
    _assert_close(dparams["params"]["kernel"], torch_dkernel)


def test_auto_picks_per_backend():
    assert resolve_implementation("conv_transpose", "auto", "cpu") == "onednn"
    assert resolve_implementation("conv_transpose", "auto", "gpu") == "phase"
    assert resolve_implementation("conv_transpose", "auto", "tpu") == "xla"
    assert resolve_implementation("conv_transpose", "xla", "cpu") == "xla"
    assert resolve_implementation("conv", "auto", "cpu") == "onednn"
    assert resolve_implementation("conv", "auto", "gpu") == "xla"
    assert resolve_implementation("conv", "auto", "tpu") == "xla"


def test_auto_can_be_overridden_for_a_backend_and_names_the_choices_when_wrong(monkeypatch):
    from jaxgan.nn.layers import AUTO_IMPLEMENTATION, override_auto_implementation
    from jaxgan.runtime.errors import UserError

    for layer, table in AUTO_IMPLEMENTATION.items():
        monkeypatch.setitem(AUTO_IMPLEMENTATION, layer, dict(table))
    override_auto_implementation("conv_transpose=xla,conv=xla", "cpu")
    assert resolve_implementation("conv_transpose", "auto", "cpu") == "xla"
    assert resolve_implementation("conv", "auto", "cpu") == "xla"
    assert resolve_implementation("conv_transpose", "auto", "gpu") == "phase"
    choices = (
        "'conv=phase' is not one of: conv_transpose=onednn|phase|xla; "
        "conv=onednn|space_to_depth|xla"
    )
    choices = re.escape(choices)
    with pytest.raises(UserError, match=choices):
        override_auto_implementation("conv=phase", "cpu")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(padding="SAME"), "explicit"),
        (dict(kernel_size=(4, 4, 4), strides=(2, 2, 2)), "2-D"),
        (dict(implementation="cudnn"), "implementation"),
        (dict(strides=(0, 2)), ">= 1"),
    ],
)
@pytest.mark.parametrize("module", [UpsampleConvTranspose, DownsampleConv])
def test_unsupported_settings_raise(module, kwargs, match):
    with pytest.raises(ValueError, match=match):
        layer = module(3, **kwargs)
        jax.eval_shape(layer.init, jax.random.key(0), jnp.ones((1, 4, 4, 2)))


# Discriminator side: DownsampleConv against nn.Conv.
CONV_SHAPES = [(1, 4, 4, 8, 3), (3, 5, 7, 3, 8), (3, 6, 3, 1, 8), (1, 7, 2, 8, 1)]
CONV_CONFIGS = [
    ((3, 3), (2, 2), ((1, 1), (0, 1))),
    ((5, 4), (3, 2), ((2, 1), (0, 0))),
    ((4, 4), (1, 1), ((1, 2), (2, 1))),
]


def _conv_reference(features: int, kernel_size=(4, 4), strides=(2, 2), padding=((1, 1), (1, 1))):
    return nn.Conv(features, kernel_size, strides=strides, padding=padding, use_bias=False)


@pytest.mark.parametrize(
    "shape, implementation",
    [(s, i) for s in CONV_SHAPES for i in ("space_to_depth", "onednn")] + [(CONV_SHAPES[1], "xla")],
)
def test_dcgan_downsample_layer_matches_conv(shape, implementation):
    batch, h, w, c_in, c_out = shape
    x = _normal(0, (batch, h, w, c_in))
    layer = DownsampleConv(c_out, implementation=implementation)
    _check_against_reference(layer, _conv_reference(c_out), x)


@pytest.mark.parametrize("config", CONV_CONFIGS)
@pytest.mark.parametrize("implementation", ["space_to_depth", "onednn"])
def test_other_conv_settings_match(config, implementation):
    kernel_size, strides, padding = config
    x = _normal(0, (2, 7, 6, 3))
    kernel = _normal(1, (*kernel_size, 3, 4))
    expected = jax.lax.conv_general_dilated(
        x, kernel, strides, padding, dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    s2d = jax.jit(conv_space_to_depth, static_argnums=(2, 3))
    _assert_close(s2d(x, kernel, strides, padding), expected)
    layer = DownsampleConv(4, kernel_size, strides, padding, implementation=implementation)
    _check_against_reference(layer, _conv_reference(4, kernel_size, strides, padding), x)


@pytest.mark.parametrize("implementation", ["space_to_depth", "onednn"])
def test_second_order_gradient_matches_conv(implementation):
    # Gradient penalties (R1, WGAN-GP) differentiate the input gradient once more.
    x = _normal(0, (2, 6, 5, 3))
    params = {"params": {"kernel": _normal(1, (4, 4, 3, 4))}}
    cotangent = _normal(2, (2, 3, 2, 4))

    @jax.jit
    def penalty_grads(params, x):
        def run(module: nn.Module):
            def penalty(params):
                dx = jax.grad(lambda x: jnp.vdot(jnp.tanh(module.apply(params, x)), cotangent))(x)
                return jnp.sum(dx**2)

            return jax.grad(penalty)(params)

        return run(DownsampleConv(4, implementation=implementation)), run(_conv_reference(4))

    ours, theirs = penalty_grads(params, x)
    _assert_close(ours["params"]["kernel"], theirs["params"]["kernel"])


@pytest.mark.parametrize("implementation", ["space_to_depth", "onednn"])
def test_forward_mode_matches_conv(implementation):
    x, tx = _normal(0, (2, 6, 5, 3)), _normal(1, (2, 6, 5, 3))
    params, tparams = ({"params": {"kernel": _normal(i, (4, 4, 3, 4))}} for i in (2, 3))

    @jax.jit
    def jvps(params, x, tparams, tx):
        def run(module: nn.Module):
            return jax.jvp(module.apply, (params, x), (tparams, tx))

        return run(DownsampleConv(4, implementation=implementation)), run(_conv_reference(4))

    ours, theirs = jvps(params, x, tparams, tx)
    for actual, expected in zip(ours, theirs, strict=True):
        _assert_close(actual, expected)


@pytest.mark.parametrize("implementation", ["space_to_depth", "onednn"])
def test_downsample_matches_torch_conv2d(implementation):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 8, 4)).astype(np.float32)  # NHWC
    weight = rng.standard_normal((2, 4, 4, 4)).astype(np.float32)  # torch: (out, in, kh, kw)
    # Both correlate without flipping: the Flax kernel is torch's weight laid out HWIO, and
    # PyTorch's padding p is Flax's ((p, p), (p, p)).
    params = {"params": {"kernel": jnp.asarray(weight.transpose(2, 3, 1, 0))}}
    layer = DownsampleConv(2, implementation=implementation)
    cotangent = rng.standard_normal((3, 3, 4, 2)).astype(np.float32)
    loss = lambda p, x: jnp.vdot(layer.apply(p, x), cotangent)  # noqa: E731
    dparams, dx = jax.jit(jax.grad(loss, (0, 1)))(params, jnp.asarray(x))

    tx = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    tlayer = torch.nn.Conv2d(4, 2, 4, stride=2, padding=1, bias=False)
    with torch.no_grad():
        tlayer.weight.copy_(torch.tensor(weight))
    ty = tlayer(tx)
    ty.backward(torch.tensor(cotangent.transpose(0, 3, 1, 2)))
    _assert_close(jax.jit(layer.apply)(params, x), ty.detach().numpy().transpose(0, 2, 3, 1))
    _assert_close(dx, tx.grad.numpy().transpose(0, 2, 3, 1))
    _assert_close(dparams["params"]["kernel"], tlayer.weight.grad.numpy().transpose(2, 3, 1, 0))
