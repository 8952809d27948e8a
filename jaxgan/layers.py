"""Layers the models share."""

import flax.linen as nn
import jax.numpy as jnp


class UpsampleConvTranspose(nn.Module):
    """PyTorch's ConvTranspose2d(k=4, s=2, p=1, bias=False): output side 2x input."""

    features: int
    kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x):
        return nn.ConvTranspose(
            self.features,
            (4, 4),
            strides=(2, 2),
            padding=((2, 2), (2, 2)),
            use_bias=False,
            kernel_init=self.kernel_init,
            dtype=self.dtype,
        )(x)
