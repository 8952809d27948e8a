"""BatchNorm "standing statistics" (BigGAN, Brock et al. 2019, section 4 and BigGAN-
PyTorch's `utils.accumulate_standing_stats`): before sampling, G's BatchNorm statistics
are re-estimated for the parameters G samples with (its moving average), rather than
taken from the training net's running averages, which were gathered with other
parameters.

G runs in training mode on `num_batches` batches of fresh latents; each BatchNorm's
mean and variance are the averages over those batches of the batch mean and variance
(the reference's mean of means and mean of variances). Everything else in G's state
(spectral norm's vectors) stays as it was.
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgan.nn import conditioning
from jaxgan.nn.nnx_bridge import NNXNet
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import latents
from jaxgan.training.state import NetState

STATISTICS = ("mean", "var")


def _batch_statistics_only(next_fun, args, kwargs, context):
    """Runs every BatchNorm with momentum 0, so that its running averages come out as
    the batch's own statistics. (BatchNorm's momentum is a field of modules the nets
    create inside their calls: setting it on the instance of this call is the one way
    in without a second copy of every net.)"""
    if isinstance(context.module, nn.BatchNorm) and context.method_name == "__call__":
        object.__setattr__(context.module, "momentum", 0.0)
    return next_fun(*args, **kwargs)


def _is_statistic(path) -> bool:
    return getattr(path[-1], "key", None) in STATISTICS


@functools.partial(jax.jit, static_argnames=("generator",))
def _batch_statistics(generator: nn.Module, params, collections, z, labels):
    """G's collections after one training-mode pass with momentum-0 BatchNorms."""
    kwargs = {} if labels is None else {"labels": labels}
    with nn.intercept_methods(_batch_statistics_only):
        _, updated = generator.apply(
            {"params": params, **collections}, z, train=True, mutable=list(collections), **kwargs
        )
    return updated


def standing_net(
    generator: nn.Module,
    net: NetState,
    config: ml_collections.ConfigDict,
    num_batches: int,
    key: jax.Array,
) -> NetState:
    """`net` with its BatchNorm statistics re-estimated over `num_batches` batches of
    config.batch_size latents (and, for a conditional G, classes drawn uniformly afresh
    for each batch, as the reference's accumulate_standing_stats)."""
    if not net.collections:
        return net
    if isinstance(generator, NNXNet):
        # nnx.BatchNorm is not linen's: its momentum cannot be set to 0 here.
        raise UserError(
            "config.standing_stats_batches works with Flax linen nets; this generator is an "
            "NNX net (jaxgan.nn.nnx_bridge): set it to 0"
        )
    num_classes = getattr(generator, "num_classes", 0)
    total = None
    for index in range(num_batches):
        z_key, label_key = jax.random.split(jax.random.fold_in(key, index))
        z = latents.prior(z_key, config.batch_size, config)
        labels = None
        if num_classes:
            labels = conditioning.fake_labels(label_key, config.batch_size, num_classes)
        updated = _batch_statistics(generator, net.params, net.collections, z, labels)
        total = updated if total is None else jax.tree.map(jnp.add, total, updated)
    averaged = jax.tree.map(lambda leaf: leaf / num_batches, total)
    collections = jax.tree_util.tree_map_with_path(
        lambda path, old, new: new if _is_statistic(path) else old, net.collections, averaged
    )
    return net.replace(collections=collections)
