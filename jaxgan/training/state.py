"""The GAN's whole training state as one pytree, and how it is created."""

import functools
from typing import Any

import flax
import flax.linen as nn
import jax
import ml_collections
import optax
from jax.sharding import Mesh

from jaxgan import families
from jaxgan.objectives import orthogonal
from jaxgan.runtime import sharding
from jaxgan.runtime.errors import UserError
from jaxgan.training import finetune, schedules


@flax.struct.dataclass
class NetState:
    """One network: parameters, mutable collections (e.g. `batch_stats`), optimiser state."""

    params: Any
    collections: Any
    opt_state: Any


@flax.struct.dataclass
class TrainState:
    """Every net of a family, their optimisers and averages, the step and the run's key.

    `nets` maps each net's name to its NetState; `ema` maps the names of the nets that
    keep a moving average (the family's ema_decays) to the averaged parameters, and,
    under config.ema_collections, `collections_key(name)` to the averaged collections
    (BatchNorm statistics, spectral norm's vectors); `extras`
    holds a family's state that no optimiser trains (running means, image pools), saved
    and restored like the rest. `key` holds raw key data (uint32) so checkpoints need no
    special handling; the step's randomness is `fold_in(key, step)`, so a resumed run
    draws the same numbers.
    """

    step: jax.Array
    key: jax.Array
    nets: dict[str, NetState]
    ema: dict[str, Any] = flax.struct.field(default_factory=dict)
    extras: dict[str, Any] = flax.struct.field(default_factory=dict)

    # The gan family's nets by their old names, for code written against GANState.
    @property
    def g(self) -> NetState:
        return self.nets["g"]

    @property
    def d(self) -> NetState:
        return self.nets["d"]

    @property
    def g_ema(self):
        """G's moving average, None when the run keeps none."""
        return self.ema.get("g")

    def with_net(self, name: str, net: NetState) -> "TrainState":
        return self.replace(nets={**self.nets, name: net})


def collections_key(name: str) -> str:
    """The `ema` entry of net `name`'s averaged collections (config.ema_collections)."""
    # No '/' or '.': checkpoint formats read those as separators in parameter paths.
    return f"{name}__collections"


# The name of jaxgan 0.1's two-net state, kept for code that imports it.
GANState = TrainState


def optimizers(config: ml_collections.ConfigDict) -> tuple[optax.GradientTransformation, ...]:
    """G's and D's optimisers, each with its own learning rate (TTUR when they differ)
    and schedule (config.lr_schedule, or the net's own: jaxgan/training/schedules.py)."""
    g_lr = schedules.learning_rate(config, config.g_learning_rate, net="g")
    d_lr = schedules.learning_rate(config, config.d_learning_rate, config.d_steps, net="d")
    if config.optimizer == "adam":
        g_tx = optax.adam(g_lr, b1=config.g_beta1, b2=config.g_beta2)
        d_tx = optax.adam(d_lr, b1=config.d_beta1, b2=config.d_beta2)
    elif config.optimizer == "rmsprop":
        # PyTorch's RMSprop defaults (alpha 0.99, eps 1e-8), which WGAN's code used.
        g_tx = optax.rmsprop(g_lr, decay=0.99, eps=1e-8)
        d_tx = optax.rmsprop(d_lr, decay=0.99, eps=1e-8)
    else:
        raise UserError(f"config.optimizer must be 'adam' or 'rmsprop', got {config.optimizer!r}")
    if config.get("g_orthogonal_reg", 0.0):
        g_tx = optax.chain(orthogonal.add_orthogonal_gradient(config.g_orthogonal_reg), g_tx)
    return g_tx, finetune.freeze(d_tx, finetune.frozen_layers(config))


# Inside the sqrt of Adam's denominator in the unrolled D steps only: G differentiates
# through those steps, and d sqrt(v)/dv is infinite where a gradient component is exactly
# zero (a dead ReLU unit), which makes G's gradient NaN. Too small to change an update.
UNROLL_EPS_ROOT = 1e-16


def unrolled_d_optimizer(config: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """D's optimiser as the unrolled steps apply it: D's own (same state), with Adam's
    square root made differentiable at zero. (RMSprop's eps is inside its root already.)"""
    if config.optimizer == "adam":
        d_lr = schedules.learning_rate(config, config.d_learning_rate, config.d_steps, net="d")
        tx = optax.adam(d_lr, b1=config.d_beta1, b2=config.d_beta2, eps_root=UNROLL_EPS_ROOT)
        return finetune.freeze(tx, finetune.frozen_layers(config))
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
    *,
    family=None,
    nets: dict[str, nn.Module] | None = None,
) -> TrainState:
    """A fresh state, every net initialised and every optimiser at step 0, created
    directly replicated on the mesh's devices (every device by default), where the
    train step expects it.

    The family is `config.family`'s module unless given (any object with a family's
    attributes: jaxgan/families/__init__.py); its nets are `family.build(config)` unless
    given (`generator`/`discriminator` stand for the gan family's nets "g" and "d").
    `key` defaults to one made from `config.seed`.
    """
    family, nets = resolve(config, family, nets, generator, discriminator)
    if key is None:
        key = jax.random.key(config.seed)
    mesh = mesh or sharding.data_mesh()
    init = functools.partial(initial_state, config=config, family=family, nets=nets)
    return jax.jit(init, out_shardings=sharding.replicated(mesh))(key)


def resolve(config, family=None, nets=None, generator=None, discriminator=None):
    """(family, nets) from what a caller gave; see create_train_state."""
    family = family or families.of(config)
    own = family.build(config)
    nets = own if nets is None else dict(nets)
    if generator is not None:
        nets["g"] = generator
    if discriminator is not None:
        nets["d"] = discriminator
    # FreezeD's layers are found in the config's own D (finetune.frozen_layers); Flax
    # modules compare by their fields, so the config's D passed back in is its own.
    if config.get("freeze_d_layers", 0) and nets.get("d") != own.get("d"):
        raise UserError(
            "config.freeze_d_layers freezes layers of the config's own D: with a D of your own "
            "(nets= or discriminator=), freeze its layers with an optax mask of your own"
        )
    return family, nets


def initial_state(
    key: jax.Array,
    *,
    config: ml_collections.ConfigDict,
    generator: nn.Module | None = None,
    discriminator: nn.Module | None = None,
    family=None,
    nets: dict[str, nn.Module] | None = None,
) -> TrainState:
    """The pure function behind `create_train_state`; `jax.eval_shape` of it gives the
    state's shapes without allocating it."""
    family, nets = resolve(config, family, nets, generator, discriminator)
    state = family.init(key, config=config, nets=nets)
    # Every averaged net's average starts at its initial parameters (and collections).
    averages = {name: state.nets[name].params for name in family.ema_decays(config)}
    if config.get("ema_collections"):
        for name in family.ema_decays(config):
            averages[collections_key(name)] = state.nets[name].collections
    return state.replace(ema={**averages, **state.ema})
