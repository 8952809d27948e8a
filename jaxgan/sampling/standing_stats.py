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

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

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


def standing_net(
    generator: nn.Module,
    net: NetState,
    config: ml_collections.ConfigDict,
    num_batches: int,
    key: jax.Array,
) -> NetState:
    """`net` with its BatchNorm statistics re-estimated over `num_batches` batches of
    config.batch_size latents (classes in turn for a conditional G)."""
    if not net.collections:
        return net
    num_classes = getattr(generator, "num_classes", 0)

    @jax.jit
    def batch_statistics(collections, z):
        kwargs = {}
        if num_classes:
            kwargs["labels"] = (jnp.arange(z.shape[0]) % num_classes).astype(jnp.int32)
        variables = {"params": net.params, **collections}
        with nn.intercept_methods(_batch_statistics_only):
            _, updated = generator.apply(
                variables, z, train=True, mutable=list(collections), **kwargs
            )
        return updated

    total = None
    for index in range(num_batches):
        z = latents.prior(jax.random.fold_in(key, index), config.batch_size, config)
        updated = batch_statistics(net.collections, z)
        total = updated if total is None else jax.tree.map(jnp.add, total, updated)
    averaged = jax.tree.map(lambda leaf: leaf / num_batches, total)
    collections = jax.tree_util.tree_map_with_path(
        lambda path, old, new: new if _is_statistic(path) else old, net.collections, averaged
    )
    return net.replace(collections=collections)
