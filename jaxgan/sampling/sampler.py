"""Drawing images from a generator state."""

import math
from collections.abc import Callable
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgan.sampling import latents as latent_vectors
from jaxgan.training.state import NetState


def latents(key: jax.Array, num: int, config: ml_collections.ConfigDict) -> jax.Array:
    """`num` latents of the family's prior (N(0, I), or BiGAN's uniform)."""
    return latent_vectors.prior(key, num, config)


class GridInputs(NamedTuple):
    """What the sample grid of training is drawn from, and its layout."""

    z: jax.Array
    labels: jax.Array | None  # None for an unconditional G
    columns: int | None  # None: square-ish


def grid_inputs(key: jax.Array, config: ml_collections.ConfigDict) -> GridInputs:
    """`config.num_samples` fixed latents; for a conditional G, one row per class of
    ceil(num_samples / num_classes) images, so num_classes rows."""
    if not config.conditional:
        return GridInputs(latents(key, config.num_samples, config), None, None)
    columns = math.ceil(config.num_samples / config.num_classes)
    labels = jnp.repeat(jnp.arange(config.num_classes, dtype=jnp.int32), columns)
    return GridInputs(latents(key, len(labels), config), labels, columns)


def class_labels(indices: jax.Array, num_classes: int, label: int | None = None) -> jax.Array:
    """The class of each image index: `label` for all, or by default every class in
    turn (image i is of class i mod num_classes)."""
    if label is None:
        return (indices % num_classes).astype(jnp.int32)
    return jnp.full(indices.shape, label, jnp.int32)


def make_sampler(
    generator: nn.Module, with_running_stats: bool = True, options: dict | None = None
) -> Callable[[NetState, jax.Array, jax.Array | None], jax.Array]:
    """A jitted `(g: NetState, z, labels=None) -> images in [-1, 1]`. A conditional G
    draws image i of class `labels[i]`, or without labels of every class in turn
    (i mod num_classes, balanced over a batch: what the evaluation's samples get).

    With running statistics, BatchNorm uses the averages gathered in training (eval
    mode); without, it normalises by the statistics of the batch `z` itself, and the
    updated averages are discarded. `options` are further keyword arguments of G
    (stylegan2's truncation: psi, cutoff).
    """

    def sample(g: NetState, z: jax.Array, labels: jax.Array | None = None) -> jax.Array:
        variables = {"params": g.params, **g.collections}
        num_classes = getattr(generator, "num_classes", 0)
        if labels is None and num_classes:
            labels = class_labels(jnp.arange(z.shape[0]), num_classes)
        kwargs = {} if labels is None else {"labels": labels}
        kwargs.update(options or {})
        if with_running_stats or not g.collections:
            return generator.apply(variables, z, train=False, **kwargs)
        images, _ = generator.apply(variables, z, train=True, mutable=list(g.collections), **kwargs)
        return images

    return jax.jit(sample)
