"""Self-attention over the positions of a feature map (Zhang et al. 2019, SAGAN), in
BigGAN's form (BigGAN-PyTorch `layers.Attention`): 1x1 convolutions without biases to
queries theta (C/8 channels), keys phi (C/8) and values g (C/2), keys and values
max-pooled 2x2, softmax over the pooled positions, a 1x1 convolution `o` back to C
channels, and a learned gain gamma starting at 0, so the layer starts as the identity:

  x + gamma * o(softmax(theta^T phi) g)

Spectral normalisation of the four convolutions where the net has it (BigGAN: both nets).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.nn import inits, normalization


class SelfAttention(nn.Module):
    norm: str = "none"  # "spectral_norm" wraps the four convolutions
    train: bool = True
    dtype: jnp.dtype = jnp.float32
    init_style: str = "default"  # Glorot uniform; or a BigGAN style (jaxgan/nn/inits.py)

    def _conv(self, features: int, name: str):
        conv = nn.Conv(
            features,
            (1, 1),
            use_bias=False,
            kernel_init=inits.weight_init(self.init_style, nn.initializers.xavier_uniform()),
            dtype=self.dtype,
            name=name,
        )
        return normalization.weighted(conv, self.norm, self.train)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        batch, height, width, channels = x.shape
        if channels % 8 or height % 2 or width % 2:
            raise ValueError(
                f"self-attention needs channels divisible by 8 and even sides, got {x.shape}"
            )
        theta = self._conv(channels // 8, "theta")(x).reshape(batch, height * width, -1)
        pool = lambda h: nn.max_pool(h, (2, 2), (2, 2))  # noqa: E731
        phi = pool(self._conv(channels // 8, "phi")(x)).reshape(batch, height * width // 4, -1)
        g = pool(self._conv(channels // 2, "g")(x)).reshape(batch, height * width // 4, -1)
        attention = jax.nn.softmax(jnp.einsum("bqc,bkc->bqk", theta, phi), axis=-1)
        attended = jnp.einsum("bqk,bkc->bqc", attention, g).reshape(batch, height, width, -1)
        out = self._conv(channels, "o")(attended)
        gamma = self.param("gamma", nn.initializers.zeros, ())
        return x + gamma * out
