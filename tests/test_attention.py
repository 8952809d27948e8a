"""BigGAN's self-attention layer against a NumPy transcription of BigGAN-PyTorch's
`layers.Attention.forward` (NCHW, torch's view/bmm order)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.nn.attention import SelfAttention


def reference(x_nhwc, theta_w, phi_w, g_w, o_w, gamma):
    """BigGAN-PyTorch's forward on NCHW; weights as (out, in) 1x1 convolutions."""
    x = x_nhwc.transpose(0, 3, 1, 2)
    b, ch, h, w = x.shape

    def conv(weight, t):
        return np.einsum("oi,bihw->bohw", weight, t)

    def max_pool(t):
        return t.reshape(t.shape[0], t.shape[1], h // 2, 2, w // 2, 2).max(axis=(3, 5))

    theta = conv(theta_w, x).reshape(b, ch // 8, h * w)
    phi = max_pool(conv(phi_w, x)).reshape(b, ch // 8, h * w // 4)
    g = max_pool(conv(g_w, x)).reshape(b, ch // 2, h * w // 4)
    logits = np.einsum("bcq,bck->bqk", theta, phi)  # bmm(theta^T, phi)
    beta = np.exp(logits - logits.max(-1, keepdims=True))
    beta /= beta.sum(-1, keepdims=True)
    attended = np.einsum("bck,bqk->bcq", g, beta).reshape(b, ch // 2, h, w)  # bmm(g, beta^T)
    out = gamma * conv(o_w, attended) + x
    return out.transpose(0, 2, 3, 1)


def test_the_layer_is_biggans_attention():
    x = jax.random.normal(jax.random.key(0), (2, 6, 4, 16))
    layer = SelfAttention()
    params = layer.init(jax.random.key(1), x)["params"]
    assert float(params["gamma"]) == 0.0
    np.testing.assert_array_equal(layer.apply({"params": params}, x), x)  # identity at start
    params = {**params, "gamma": jnp.asarray(0.7)}
    weights = {
        name: np.asarray(params[name]["kernel"])[0, 0].T for name in ("theta", "phi", "g", "o")
    }
    assert {n: w.shape for n, w in weights.items()} == {
        "theta": (2, 16),
        "phi": (2, 16),
        "g": (8, 16),
        "o": (16, 8),
    }
    expected = reference(np.asarray(x, np.float64), *weights.values(), 0.7)
    got = layer.apply({"params": params}, x)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_odd_shapes_are_refused():
    with pytest.raises(ValueError, match="channels divisible by 8 and even sides"):
        SelfAttention().init(jax.random.key(0), jnp.zeros((1, 5, 4, 16)))


@pytest.mark.parametrize("resolution", [8, 16])
def test_the_resnet_with_attention_starts_as_the_resnet_without(resolution):
    """gamma starts at 0 and Flax derives each layer's init from its name, so at
    initialisation the nets with attention compute exactly what the nets without do."""
    from jaxgan.nn import models
    from tests.conftest import tiny

    def nets(attention):
        config = tiny(model="resnet", image_size=32, num_channels=3, d_norm="spectral_norm")
        config.attention_resolution = attention
        return models.build(config)

    (g0, d0), (g1, d1) = nets(0), nets(resolution)
    z = jax.random.normal(jax.random.key(0), (2, 16))
    images = jax.random.uniform(jax.random.key(1), (2, 32, 32, 3), minval=-1, maxval=1)
    for plain, attended, x in ((g0, g1, z), (d0, d1, images)):
        v0 = plain.init(jax.random.key(2), x, train=False)
        v1 = attended.init(jax.random.key(2), x, train=False)
        assert "SelfAttention_0" in v1["params"] and "SelfAttention_0" not in v0["params"]
        np.testing.assert_array_equal(
            attended.apply(v1, x, train=False), plain.apply(v0, x, train=False)
        )
