"""Fine-tuning: a new run that starts from another run's weights (config.init_from), and
FreezeD (Mo et al. 2020, "Freeze the Discriminator"): the first config.freeze_d_layers
layers of D kept as they are.

`init_from = "RUN_DIR"` (its latest checkpoint) or `"RUN_DIR:STEP"` copies every net's
parameters and collections (BatchNorm statistics, spectral norm's vectors) and the moving
averages into the fresh state; `init_optimizer=True` copies the optimisers' states too.
The new run's step, key and data position start at 0. The two configs' networks must be
the same: every parameter of the same path, shape and dtype, or the first that differs
is named. Only a fresh run reads init_from; a resumed one continues from its own
checkpoint.

D's "layers" are its top-level submodules in the order D applies them (for the DCGAN D:
its strided convolutions, then BatchNorm, then the last convolution; for the ResNet D:
its blocks, then the linear output), found by intercepting D's calls once; a frozen
layer's parameters get zero updates (optax.set_to_zero), while its BatchNorm statistics
still follow the data, as in FreezeD's code, which freezes parameters only. The
stylegan2 family numbers its D's layers as stylegan2-ada-pytorch's --freezed does
(stylegan2.d_layers: construction order, the epilogue never frozen).

A family's running values outside the nets (state.extras: StyleGAN2's pl_mean) are not
copied: they start afresh, as stylegan2-ada-pytorch's --resume leaves its loss's
pl_mean at 0.
"""

import pathlib

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgan.runtime.errors import UserError
from jaxgan.training import schedules


def parse_source(init_from: str) -> tuple[pathlib.Path, int | None]:
    """RUN_DIR or RUN_DIR:STEP."""
    head, colon, tail = init_from.rpartition(":")
    if colon and tail.isdigit():
        return pathlib.Path(head), int(tail)
    return pathlib.Path(init_from), None


def call_order(module: nn.Module, *args, **kwargs) -> list[str]:
    """Names of the module's top-level submodules in the order its call first applies
    them (a params dict loses that order: pytrees sort their keys)."""
    order: list[str] = []

    def record(next_fun, call_args, call_kwargs, context):
        path = context.module.path
        if len(path) == 1 and path[0] not in order:
            order.append(path[0])
        return next_fun(*call_args, **call_kwargs)

    with nn.intercept_methods(record):
        jax.eval_shape(lambda: module.init(jax.random.key(0), *args, **kwargs))
    return order


def frozen_layers(config: ml_collections.ConfigDict) -> list[str]:
    """The top-level submodules of the config's D that FreezeD keeps fixed."""
    count = config.get("freeze_d_layers", 0)
    if not count:
        return []
    from jaxgan.nn import models
    from jaxgan.objectives import packing

    _, discriminator = models.build(config)
    example = packing.pack(jnp.zeros((config.pack, *models.data_shape(config))), config.pack)
    labels = {"labels": jnp.zeros((1,), jnp.int32)} if config.conditional else {}
    shapes = jax.eval_shape(
        lambda: discriminator.init(jax.random.key(0), example, train=False, **labels)
    )
    with_params = shapes.get("params", {})
    order = call_order(discriminator, example, train=False, **labels)
    layers = [name for name in order if name in with_params]
    if count >= len(layers):
        raise UserError(
            f"config.freeze_d_layers={count} would freeze all of D: it has {len(layers)} "
            f"layers with parameters ({', '.join(layers)}); freeze fewer"
        )
    return layers[:count]


def freeze(tx: optax.GradientTransformation, layers: list[str]) -> optax.GradientTransformation:
    """`tx` for every parameter outside `layers` (top-level names); zero updates inside."""
    if not layers:
        return tx

    def labels(params):
        return {
            name: jax.tree.map(lambda _, n=name: "frozen" if n in layers else "trained", subtree)
            for name, subtree in params.items()
        }

    return optax.multi_transform({"trained": tx, "frozen": optax.set_to_zero()}, labels)


def check_source(config: ml_collections.ConfigDict) -> None:
    """Refuses an init_from that names no run or no checkpoint of it; reads only."""
    from jaxgan.training import checkpoints

    source, step = parse_source(config.init_from)
    if not (source / "config.json").is_file():
        raise UserError(
            f"config.init_from={config.init_from!r}: {source} is not a jaxgan run (it has no "
            "config.json)"
        )
    steps = checkpoints.existing_steps(source)
    if not steps:
        raise UserError(f"config.init_from={config.init_from!r}: {source} has no checkpoint")
    if step is not None and step not in steps:
        raise UserError(
            f"config.init_from={config.init_from!r}: {source} has no checkpoint of step "
            f"{step}: it has steps {steps}"
        )


def _first_difference(ours, theirs, where: str) -> str | None:
    flat_ours = {jax.tree_util.keystr(p): v for p, v in jax.tree_util.tree_leaves_with_path(ours)}
    flat_theirs = {
        jax.tree_util.keystr(p): v for p, v in jax.tree_util.tree_leaves_with_path(theirs)
    }
    for path in sorted(set(flat_ours) | set(flat_theirs)):
        if path not in flat_theirs:
            return f"{where}{path} exists in this config only"
        if path not in flat_ours:
            return f"{where}{path} exists in the source run only"
        a, b = flat_ours[path], flat_theirs[path]
        if (a.shape, a.dtype) != (b.shape, b.dtype):
            return f"{where}{path} is {b.dtype}{list(b.shape)} there, {a.dtype}{list(a.shape)} here"
    return None


def load_source(config: ml_collections.ConfigDict, mesh):
    """The source run of config.init_from, restored and checked against this config's
    networks before anything is written (a UserError names the first difference)."""
    from jaxgan.sampling import restore as restore_lib
    from jaxgan.training import state as train_state

    check_source(config)
    if config.get("init_optimizer") and schedules.scheduled(config):
        # The copied optimiser state carries the source's update count, which drives the
        # schedule: the new run would start partway through it (or at a rate of 0).
        raise UserError(
            "config.init_optimizer continues the source run's optimisers, whose update counts "
            f"would drive this run's schedule ({', '.join(schedules.changed(config))}) from "
            "partway: use it with constant rates and no warm-up, or leave init_optimizer False"
        )
    source_dir, step = parse_source(config.init_from)
    source = restore_lib.restore(source_dir, step, mesh)
    family, nets = train_state.resolve(config)
    ours, theirs = restore_lib.abstract_state(config, family, nets, mesh), source.state
    if set(theirs.nets) != set(ours.nets):
        raise UserError(
            f"config.init_from={config.init_from!r} holds nets {sorted(theirs.nets)}, this "
            f"config has {sorted(ours.nets)}: the two runs are of different families"
        )
    parts = ["params", "collections"] + (["opt_state"] if config.get("init_optimizer") else [])
    for name in sorted(ours.nets):
        for part in parts:
            mine, its = getattr(ours.nets[name], part), getattr(theirs.nets[name], part)
            problem = _first_difference(mine, its, f"{name}.{part}")
            if problem is None and jax.tree.structure(mine) != jax.tree.structure(its):
                problem = f"{name}.{part} is structured differently"
            if problem:
                advice = "use the source run's model settings"
                if part == "opt_state":
                    advice = (
                        "with init_optimizer, the optimiser settings (optimizer, "
                        "freeze_d_layers) must be the source run's too; a source trained with "
                        "a schedule or warm-up cannot be continued: leave init_optimizer False"
                    )
                raise UserError(
                    f"config.init_from={config.init_from!r} (step {source.step}) does not fit "
                    f"this config's networks: {problem}; {advice}"
                )
    return source


def apply_source(state, source, config: ml_collections.ConfigDict):
    """The fresh `state` with the source run's weights (see the module docstring)."""
    theirs = source.state
    nets = {}
    for name, net in state.nets.items():
        other = theirs.nets[name]
        opt_state = other.opt_state if config.get("init_optimizer") else net.opt_state
        nets[name] = net.replace(
            params=other.params, collections=other.collections, opt_state=opt_state
        )
    # A moving average the source lacks starts from the copied parameters (collections).
    from jaxgan.training.state import collections_key  # state imports this module

    def copied(key: str):
        if key in nets:
            return nets[key].params
        (name,) = [n for n in nets if collections_key(n) == key]
        return nets[name].collections

    ema = {key: theirs.ema.get(key, copied(key)) for key in state.ema}
    return state.replace(nets=nets, ema=ema)
