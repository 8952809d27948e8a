"""The GAN's whole training state as one pytree, and how it is created."""

import functools
from typing import Any

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax
from jax.sharding import Mesh

from jaxgan import models, packing, sharding
from jaxgan.errors import UserError


@flax.struct.dataclass
class NetState:
    """One network: parameters, mutable collections (e.g. `batch_stats`), optimiser state."""

    params: Any
    collections: Any
    opt_state: Any


@flax.struct.dataclass
class GANState:
    """Both networks, the step count and the run's PRNG key.

    `key` holds raw key data (uint32) so checkpoints need no special handling; the
    step's randomness is `fold_in(key, step)`, so a resumed run draws the same numbers.
    `g_ema` is the moving average of G's parameters (None when config.g_ema_decay is 0).
    """

    step: jax.Array
    key: jax.Array
    g: NetState
    d: NetState
    g_ema: Any = None


def optimizers(config: ml_collections.ConfigDict) -> tuple[optax.GradientTransformation, ...]:
    """G's and D's optimisers, each with its own learning rate (TTUR when they differ)."""
    if config.optimizer == "adam":
        g_tx = optax.adam(config.g_learning_rate, b1=config.g_beta1, b2=config.g_beta2)
        d_tx = optax.adam(config.d_learning_rate, b1=config.d_beta1, b2=config.d_beta2)
    elif config.optimizer == "rmsprop":
        # PyTorch's RMSprop defaults (alpha 0.99, eps 1e-8), which WGAN's code used.
        g_tx = optax.rmsprop(config.g_learning_rate, decay=0.99, eps=1e-8)
        d_tx = optax.rmsprop(config.d_learning_rate, decay=0.99, eps=1e-8)
    else:
        raise UserError(f"config.optimizer must be 'adam' or 'rmsprop', got {config.optimizer!r}")
    return g_tx, d_tx


# Inside the sqrt of Adam's denominator in the unrolled D steps only: G differentiates
# through those steps, and d sqrt(v)/dv is infinite where a gradient component is exactly
# zero (a dead ReLU unit), which makes G's gradient NaN. Too small to change an update.
UNROLL_EPS_ROOT = 1e-16


def unrolled_d_optimizer(config: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """D's optimiser as the unrolled steps apply it: D's own (same state), with Adam's
    square root made differentiable at zero. (RMSprop's eps is inside its root already.)"""
    if config.optimizer == "adam":
        return optax.adam(
            config.d_learning_rate, b1=config.d_beta1, b2=config.d_beta2, eps_root=UNROLL_EPS_ROOT
        )
    return optimizers(config)[1]


def split_variables(variables: dict) -> tuple[Any, dict]:
    variables = dict(variables)
    return variables.pop("params"), variables


def init_net(
    module: nn.Module,
    tx: optax.GradientTransformation,
    key: jax.Array,
    example: jax.Array,
    labels: jax.Array | None = None,
) -> NetState:
    """A module's variables and optimiser state; `labels` (example labels) for
    conditional modules only."""
    kwargs = {} if labels is None else {"labels": labels}
    params, collections = split_variables(module.init(key, example, train=False, **kwargs))
    return NetState(params=params, collections=collections, opt_state=tx.init(params))


def create_train_state(
    config: ml_collections.ConfigDict,
    key: jax.Array | None = None,
    mesh: Mesh | None = None,
    generator: nn.Module | None = None,
    discriminator: nn.Module | None = None,
) -> GANState:
    """A fresh state, both nets initialised and both optimisers at step 0, created
    directly replicated on the mesh's devices (every device by default), where the
    train step expects it.

    `key` defaults to one made from `config.seed`.
    """
    if generator is None or discriminator is None:
        generator, discriminator = models.build(config)
    if key is None:
        key = jax.random.key(config.seed)
    mesh = mesh or sharding.data_mesh()
    init = functools.partial(
        initial_state, config=config, generator=generator, discriminator=discriminator
    )
    return jax.jit(init, out_shardings=sharding.replicated(mesh))(key)


def initial_state(
    key: jax.Array,
    *,
    config: ml_collections.ConfigDict,
    generator: nn.Module,
    discriminator: nn.Module,
) -> GANState:
    """The pure function behind `create_train_state`; `jax.eval_shape` of it gives the
    state's shapes without allocating it."""
    g_key, d_key, run_key = jax.random.split(key, 3)
    g_tx, d_tx = optimizers(config)
    z = jnp.zeros((1, config.latent_dim), jnp.float32)
    # D's example input: one packed group of `pack` samples (one sample without packing).
    image = packing.pack(jnp.zeros((config.pack, *models.data_shape(config))), config.pack)
    labels = jnp.zeros((1,), jnp.int32) if config.conditional else None
    g = init_net(generator, g_tx, g_key, z, labels)
    return GANState(
        step=jnp.zeros((), jnp.int32),
        key=jax.random.key_data(run_key),
        g=g,
        d=init_net(discriminator, d_tx, d_key, image, labels),
        g_ema=g.params if config.g_ema_decay > 0 else None,
    )
