"""The generic training step of every family: `(state, batch) -> (state, metrics)`.

A step runs the family's phases in order (jaxgan/families/__init__.py). Each phase takes
the gradient of its loss with respect to the nets it updates, applies one optimiser
update per net, projects the parameters where the family asks (weight clipping) and
threads the mutable collections its nets returned; a phase with `repeat` r does that r
times; a lazy phase (`every` k) runs under lax.cond on steps that are multiples of k.
After the phases, the nets that keep a moving average update it, and the step advances.

The randomness of step s is fold_in(run key, s): a resumed run draws what it would have.
The step is jitted with the state donated and replicated and the batch sharded over the
mesh's 'data' axis; `steps` > 1 runs that many steps in one call (lax.scan).
"""

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxgan.families import Context, Phase
from jaxgan.runtime import sharding
from jaxgan.training.state import NetState, TrainState, collections_key, resolve

Metrics = dict[str, jax.Array]


def ema_update(average, params, decay: float):
    """average <- decay * average + (1 - decay) * params, leaf by leaf; a leaf that is
    not floating (a counter among a net's collections) is taken from `params`."""

    def update(a, p):
        if not jnp.issubdtype(a.dtype, jnp.floating):
            return p
        return decay * a + (1 - decay) * p

    return jax.tree.map(update, average, params)


def _apply_gradients(state: TrainState, phase: Phase, grads: dict, txs: dict) -> TrainState:
    nets = dict(state.nets)
    for name in phase.updates:
        net = nets[name]
        updates, opt_state = txs[name].update(grads[name], net.opt_state, net.params)
        params = optax.apply_updates(net.params, updates)
        if name in phase.project:
            params = phase.project[name](params)
        nets[name] = NetState(params, net.collections, opt_state)
    return state.replace(nets=nets)


def run_phase(phase: Phase, txs: dict, state: TrainState, batch, key, handoff):
    """Runs one phase's `repeat` updates; returns (state, metrics, handoff)."""
    metrics = {}
    for index in range(phase.repeat):
        context = Context(state, batch, key, index, handoff)
        params = {name: state.nets[name].params for name in phase.updates}
        if phase.gradients is not None:
            (_, aux), grads = phase.gradients(params, context)
        else:
            (_, aux), grads = jax.value_and_grad(phase.loss, has_aux=True)(params, context)
        state = _apply_gradients(state, phase, grads, txs)
        for name, collections in aux.collections.items():
            state = state.with_net(name, state.nets[name].replace(collections=collections))
        if aux.extras:
            state = state.replace(extras={**state.extras, **aux.extras})
        norms = {f"{name}_grad_norm": optax.tree.norm(grads[name]) for name in phase.updates}
        metrics, handoff = {**aux.metrics, **norms}, aux.handoff
    return state, metrics, handoff


def run_lazy_phase(phase: Phase, txs: dict, state: TrainState, batch, key):
    """A phase that runs every `phase.every` steps; its metrics read 0 on other steps."""

    def run(state):
        new_state, metrics, _ = run_phase(phase, txs, state, batch, key, {})
        return new_state, metrics

    def skip(state):
        shapes = jax.eval_shape(run, state)[1]
        return state, jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)

    return jax.lax.cond(state.step % phase.every == 0, run, skip, state)


def family_step(
    state: TrainState,
    batch: dict[str, jax.Array],
    *,
    phases: Sequence[Phase],
    optimizers: dict[str, optax.GradientTransformation],
    ema_decays: dict[str, float],
    ema_start: int = 0,
    ema_collections: bool = False,
) -> tuple[TrainState, Metrics]:
    """The pure step: every phase in order, then the moving averages, then step + 1.

    A decay may be a function of the step (StyleGAN2's ramp-up: `decay(step)`). Before
    iteration `ema_start` (counted from 1, as BigGAN's code counts its `itr`), the
    averages copy the parameters (decay 0), as BigGAN-PyTorch's `ema_start` does. With
    `ema_collections` each averaged net's collections are averaged by the same decay
    (BigGAN-PyTorch's ema averages its buffers too)."""
    key = jax.random.fold_in(jax.random.wrap_key_data(state.key), state.step)
    metrics, handoff = {}, {}
    for phase in phases:
        if phase.every == 1:
            state, phase_metrics, handoff = run_phase(phase, optimizers, state, batch, key, handoff)
        else:
            state, phase_metrics = run_lazy_phase(phase, optimizers, state, batch, key)
            handoff = {}
        metrics.update(phase_metrics)
    ema_decays = {
        name: decay(state.step) if callable(decay) else decay for name, decay in ema_decays.items()
    }
    if ema_start:
        copying = state.step + 1 < ema_start
        ema_decays = {name: jnp.where(copying, 0.0, d) for name, d in ema_decays.items()}
    ema = {
        name: ema_update(state.ema[name], state.nets[name].params, decay)
        for name, decay in ema_decays.items()
    }
    if ema_collections:
        for name, decay in ema_decays.items():
            key_ = collections_key(name)
            ema[key_] = ema_update(state.ema[key_], state.nets[name].collections, decay)
    return state.replace(step=state.step + 1, ema={**state.ema, **ema}), metrics


def make_step_function(config: ml_collections.ConfigDict, family, nets: dict[str, nn.Module]):
    """The family's unjitted one-step function `(state, batch) -> (state, metrics)`; for
    a family with frozen inputs (a loss network's weights: `needs_frozen_inputs`),
    `(state, batch, frozen)`, the phases finding them in batch["frozen"]."""
    phases = family.phases(config, nets)
    optimizers, decays = family.optimizers(config), family.ema_decays(config)

    start, collections = config.get("ema_start", 0), config.get("ema_collections", False)

    def step(state, batch, frozen=None):
        if frozen is not None:
            batch = {**batch, "frozen": frozen}
        return family_step(
            state,
            batch,
            phases=phases,
            optimizers=optimizers,
            ema_decays=decays,
            ema_start=start,
            ema_collections=collections,
        )

    return step


def needs_frozen_inputs(config: ml_collections.ConfigDict, family) -> bool:
    return getattr(family, "needs_frozen_inputs", lambda c: False)(config)


def gan_step(state: TrainState, batch: dict[str, jax.Array], *, config, **nets) -> tuple:
    """One step of `config`'s family, unjitted (jaxgan 0.1's name for the gan family's
    step; `generator=`/`discriminator=` name its nets)."""
    family, modules = resolve(config, None, None, nets.get("generator"), nets.get("discriminator"))
    return make_step_function(config, family, modules)(state, batch)


def make_train_step(
    config: ml_collections.ConfigDict,
    mesh: Mesh | None = None,
    generator: nn.Module | None = None,
    discriminator: nn.Module | None = None,
    steps: int = 1,
    *,
    family=None,
    nets: dict[str, nn.Module] | None = None,
) -> Callable[[TrainState, dict], tuple[TrainState, Metrics]]:
    """The jitted, data-parallel step of a family (config.family's module unless given;
    any object with a family's attributes, see jaxgan/families/__init__.py): batch
    sharded over the mesh's 'data' axis, state replicated, state buffers donated.
    Statistics over the batch (BatchNorm's) are over the global batch. `mesh` defaults
    to every device.

    With `steps` > 1 one call runs that many steps (a lax.scan): every batch leaf has a
    leading axis of `steps` (one step's batch each) and every metric comes back with
    that leading axis. The result equals `steps` calls of the one-step function.

    A family with frozen inputs (srgan's loss network) takes them as a third argument,
    `family.frozen_inputs(config)`, replicated: an argument, not a constant of the
    compiled program, and never part of the state (so never checkpointed).
    """
    family, nets = resolve(config, family, nets, generator, discriminator)
    mesh = mesh or sharding.data_mesh()
    sharding.check_batch_size(config.batch_size, mesh)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    step = make_step_function(config, family, nets)
    if steps > 1:
        one_step = step

        def step(state, batches, frozen=None):
            def scanned(state, batch):
                return one_step(state, batch, frozen)

            return jax.lax.scan(scanned, state, batches, length=steps)

    replicated = NamedSharding(mesh, P())
    frozen = (replicated,) if needs_frozen_inputs(config, family) else ()
    return jax.jit(
        step,
        in_shardings=(replicated, sharding.batch_sharding(mesh, 1 + (steps > 1)), *frozen),
        out_shardings=(replicated, replicated),
        donate_argnums=0,
    )
