"""Drawing images from a generator state."""

from collections.abc import Callable

import flax.linen as nn
import jax
import ml_collections

from jaxgan.train_state import NetState


def latents(key: jax.Array, num: int, config: ml_collections.ConfigDict) -> jax.Array:
    return jax.random.normal(key, (num, config.latent_dim))


def make_sampler(
    generator: nn.Module, with_running_stats: bool = True
) -> Callable[[NetState, jax.Array], jax.Array]:
    """A jitted `(g: NetState, z) -> images in [-1, 1]`.

    With running statistics, BatchNorm uses the averages gathered in training (eval
    mode); without, it normalises by the statistics of the batch `z` itself, and the
    updated averages are discarded.
    """

    def sample(g: NetState, z: jax.Array) -> jax.Array:
        variables = {"params": g.params, **g.collections}
        if with_running_stats or not g.collections:
            return generator.apply(variables, z, train=False)
        images, _ = generator.apply(variables, z, train=True, mutable=list(g.collections))
        return images

    return jax.jit(sample)
