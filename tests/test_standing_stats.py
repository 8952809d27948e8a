"""BatchNorm standing statistics (jaxgan/sampling/standing_stats.py, BigGAN's): each
BatchNorm's mean and variance become the averages over the batches of its batch mean and
variance, computed here by hand from the layer's input; spectral norm's vectors stay."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

import jaxgan
from jaxgan.sampling import latents, restore, standing_stats
from jaxgan.training.state import NetState
from tests.conftest import tiny


class TwoLayers(nn.Module):
    """dense -> BatchNorm (momentum 0.9, as jaxgan's) -> SN dense -> BatchNorm."""

    num_classes: int = 0

    @nn.compact
    def __call__(self, z, train=True):
        h = nn.Dense(5)(z)
        h = nn.BatchNorm(use_running_average=not train, momentum=0.9)(h)
        h = nn.SpectralNorm(nn.Dense(3))(jnp.tanh(h), update_stats=train)
        return nn.BatchNorm(use_running_average=not train, momentum=0.9)(h)


def test_the_statistics_are_the_average_batch_statistics_and_sn_stays():
    config = tiny(latent_dim=4, batch_size=6)
    module = TwoLayers()
    z0 = jnp.ones((2, 4))
    variables = module.init(jax.random.key(0), z0)
    params, collections = variables["params"], {"batch_stats": variables["batch_stats"]}
    # Running averages far from anything a batch gives, so a leftover would show.
    stats = jax.tree_util.tree_map_with_path(
        lambda path, x: x + 7.0 if path[-1].key in ("mean", "var") else x, collections
    )
    net = NetState(params=params, collections=stats, opt_state=None)
    key = jax.random.key(5)
    result = standing_stats.standing_net(module, net, config, 3, key)

    # By hand: the first BatchNorm's input is dense(z) for each batch's z.
    means, variances = [], []
    for index in range(3):
        z_key, _ = jax.random.split(jax.random.fold_in(key, index))
        z = latents.prior(z_key, 6, config)
        h = np.asarray(z @ params["Dense_0"]["kernel"] + params["Dense_0"]["bias"], np.float64)
        means.append(h.mean(0))
        variances.append(h.var(0))
    first = result.collections["batch_stats"]["BatchNorm_0"]
    np.testing.assert_allclose(first["mean"], np.mean(means, 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(first["var"], np.mean(variances, 0), rtol=1e-5, atol=1e-6)
    second = result.collections["batch_stats"]["BatchNorm_1"]
    assert np.all(np.abs(np.asarray(second["mean"]) - 7.0) > 1)  # re-estimated too
    # The spectral-norm vector is the net's, not advanced by the three passes.
    sn = lambda c: jax.tree.leaves(  # noqa: E731
        {k: v for k, v in c["batch_stats"].items() if k.startswith("SpectralNorm")}
    )
    assert len(sn(stats)) == 2  # u and sigma
    for before, after in zip(sn(stats), sn(result.collections), strict=True):
        np.testing.assert_array_equal(before, after)
    assert result.params is params


def test_the_sampling_net_of_a_run_gets_standing_statistics_when_asked():
    config = tiny(g_ema_decay=0.9, standing_stats_batches=2)
    family = jaxgan.families.of(config)
    state = jaxgan.create_train_state(config)
    generator = family.build(config)["g"]
    with_stats = restore.generator_net(state, config, family, generator)
    config.standing_stats_batches = 0
    without = restore.generator_net(state, config, family, generator)
    chex_equal = jax.tree.map(np.array_equal, with_stats.params, without.params)
    assert all(jax.tree.leaves(chex_equal))
    changed = jax.tree.map(
        lambda a, b: not np.array_equal(a, b), with_stats.collections, without.collections
    )
    assert any(jax.tree.leaves(changed))
