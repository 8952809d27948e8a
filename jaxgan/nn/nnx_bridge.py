"""A Flax NNX net in jaxgan's Linen slots: `from_nnx(model)` is the Linen module that
`jaxgan.make_train_step(config, nets={"g": ..., "d": ...})` and `create_train_state`
train, `to_nnx(net, params, collections)` the NNX module again with trained weights.

The net is `nnx.split` once into its graph and its variables; each call of the Linen
module `nnx.merge`s the graph with the variables jaxgan passes in, runs the NNX module
and hands the updated variables back: what `nnx.bridge.ToLinen` does, but from a built
module and its weights (ToLinen takes a class and rebuilds the module at every call),
and with the checks below (ToLinen hands a module that keeps an RNG stream
`nnx.Rngs(default=0)` at every call, so its dropout draws one mask for ever).

Variables go by type: `nnx.Param` to `params` (trained by the optimiser),
`nnx.BatchStat` to `batch_stats` (BatchNorm statistics, SpectralNorm's `u` and `sigma`)
and any other `nnx.Variable` type to its own collection, threaded through the step and
checkpointed like `batch_stats`. Values `sow`n into `nnx.Intermediate` are not kept.
Keys are strings: list indices "0", SpectralNorm's tuple keys ("kernel", "u") "kernel_u".

jaxgan's `train=` flag sets every submodule's `use_running_average` and `deterministic`
(as `model.train()` / `model.eval()` do) on the merged copy, and is passed on to the
module's `__call__` when that takes a `train` argument. `labels=` (conditional configs)
is passed on as given.

State jaxgan cannot thread is refused with a `UserError` naming the variable, before
anything is initialised or trained, and the user's module is left as it was: an RNG
stream kept in the module (`nnx.Rngs` stored by `nnx.Dropout(rngs=...)`: the gan family
gives its nets no random keys, and the stream would not be part of the checkpointed
state), a plain array attribute (not an `nnx.Variable`), a PRNG key or an integer
`nnx.Param`, and (at initialisation, or when a step is traced) a variable that `__call__`
creates or whose shape or dtype it changes.
"""

import dataclasses
import inspect
import re
from collections.abc import Callable
from typing import Any

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
from flax import nnx
from flax.nnx import variablelib

from jaxgan.runtime.errors import UserError

# The NNX API this module is written against (State leaves that are Variables,
# Variable.get_value); tested with flax 0.12.8.
MIN_FLAX = (0, 12)

# Variable types whose values are outputs of a call, not state: dropped, never threaded.
NOT_KEPT = (nnx.Intermediate, nnx.Perturbation)
WHAT_TO_DO = (
    "jaxgan threads nnx.Param (trained), nnx.BatchStat and other nnx.Variable types "
    "created in __init__ (see jaxgan/nn/nnx_bridge.py)"
)


def _key(part) -> str:
    """A Linen (and checkpoint) key for one element of an NNX path: list indices become
    "0", SpectralNorm's tuple keys ("kernel", "u") become "kernel_u"."""
    if isinstance(part, tuple):
        return "_".join(map(str, part))
    return str(part)


@dataclasses.dataclass(frozen=True)
class _Entry:
    path: tuple  # the NNX path
    collection: str  # the Linen collection
    keys: tuple[str, ...]  # the path within the collection
    variable: nnx.Variable  # abstract (a ShapeDtypeStruct value): type and metadata


@dataclasses.dataclass(eq=False)
class Layout:
    """An NNX net's graph and where each of its variables lives in Linen's collections."""

    name: str
    graphdef: Any
    entries: tuple[_Entry, ...]
    initial: Callable[[jax.Array], dict]  # params key -> {NNX path: initial value}
    passes_train: bool

    def where(self, path) -> str:
        return ".".join([self.name, *map(str, path)])

    def nest(self, values: dict, collections=None) -> dict:
        """{collection: nested dict} of {NNX path: value}."""
        nested: dict = {}
        for entry in self.entries:
            if entry.path not in values:
                continue
            if collections is not None and entry.collection not in collections:
                continue
            node = nested.setdefault(entry.collection, {})
            for key in entry.keys[:-1]:
                node = node.setdefault(key, {})
            node[entry.keys[-1]] = values[entry.path]
        return nested

    def flat(self, variables) -> dict:
        """{NNX path: value} of Linen variables ({collection: nested dict})."""
        values = {}
        for entry in self.entries:
            node = variables.get(entry.collection, {})
            for key in entry.keys:
                if key not in node:
                    raise UserError(
                        f"{self.where(entry.path)} ({entry.collection}/{'/'.join(entry.keys)}) "
                        "is missing from the variables given: they are not this net's"
                    )
                node = node[key]
            values[entry.path] = node
        return values

    def merge(self, values: dict) -> nnx.Module:
        """A fresh NNX module of the graph with these values (the user's is not touched)."""
        state = nnx.from_flat_state(
            [(entry.path, entry.variable.replace(values[entry.path])) for entry in self.entries]
        )
        return nnx.merge(self.graphdef, state)

    def check_call(self, module: nnx.Module) -> dict:
        """The module's threaded values after a call; refuses variables the call created
        or reshaped."""
        known = {entry.path: entry for entry in self.entries}
        values = {}
        for path, leaf in nnx.to_flat_state(nnx.state(module)):
            if isinstance(leaf, NOT_KEPT):
                continue
            entry = known.get(path)
            if entry is None:
                raise UserError(
                    f"{self.where(path)} ({type(leaf).__name__}) is created by __call__: "
                    f"create it in __init__; {WHAT_TO_DO}"
                )
            value = leaf.get_value() if isinstance(leaf, nnx.Variable) else leaf
            before, after = entry.variable.get_value(), _aval(value)
            if (before.shape, before.dtype) != (after.shape, after.dtype):
                raise UserError(
                    f"{self.where(path)} changes from {before.dtype}{list(before.shape)} to "
                    f"{after.dtype}{list(after.shape)} in a call: jaxgan threads variables of "
                    "a fixed shape and dtype"
                )
            values[path] = value
        return values


def _aval(value) -> jax.ShapeDtypeStruct:
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return jax.ShapeDtypeStruct(value.shape, value.dtype)
    return jax.ShapeDtypeStruct(jnp.shape(value), jnp.result_type(value))


def _check_leaf(layout_name: str, path, leaf) -> None:
    where = ".".join([layout_name, *map(str, path)])
    if isinstance(leaf, nnx.RngState):
        raise UserError(
            f"{where} is an RNG stream kept in the module ({type(leaf).__name__}, e.g. "
            "nnx.Dropout(rngs=...) keeps one): jaxgan's gan step gives its nets no random "
            "keys and cannot thread a stream into its checkpointed state, so it would draw "
            "the same numbers every step. Build the net without random layers (nothing "
            "of yours was changed)"
        )
    if not isinstance(leaf, nnx.Variable):
        raise UserError(
            f"{where} is a plain {type(leaf).__name__} attribute, not an nnx.Variable: "
            f"jaxgan cannot tell whether to train or thread it; wrap it in nnx.Param "
            f"(trained) or nnx.Variable (kept as state); {WHAT_TO_DO}"
        )
    dtype = _aval(leaf.get_value()).dtype
    if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        raise UserError(
            f"{where} holds a PRNG key ({type(leaf).__name__}): jaxgan cannot thread keys "
            "through a net's state; draw randomness outside the net"
        )
    if isinstance(leaf, nnx.Param) and not jnp.issubdtype(dtype, jnp.inexact):
        raise UserError(
            f"{where} is an nnx.Param of dtype {dtype}: the optimiser trains "
            "float parameters only; make it an nnx.Variable to keep it untrained"
        )


def _takes_train(module: nnx.Module) -> bool:
    parameters = inspect.signature(type(module).__call__).parameters.values()
    return any(p.name == "train" or p.kind is p.VAR_KEYWORD for p in parameters)


def _layout(model: nnx.Module, initial: Callable[[jax.Array], dict], name: str) -> Layout:
    graphdef, state = nnx.split(model)
    entries, seen = [], {}
    for path, leaf in nnx.to_flat_state(state):
        if isinstance(leaf, NOT_KEPT):
            continue
        _check_leaf(name, path, leaf)
        collection = variablelib.variable_name_from_type(type(leaf), allow_register=True)
        keys = tuple(_key(part) for part in path)
        if (collection, keys) in seen:
            raise UserError(
                f"{name}.{'.'.join(map(str, path))} and "
                f"{name}.{'.'.join(map(str, seen[(collection, keys)]))} have the same "
                f"checkpoint name {collection}/{'/'.join(keys)}: rename one"
            )
        seen[(collection, keys)] = path
        entries.append(_Entry(path, collection, keys, leaf.replace(_aval(leaf.get_value()))))
    return Layout(name, graphdef, tuple(entries), initial, _takes_train(model))


def from_nnx(model: nnx.Module | Callable[..., nnx.Module], *, name: str | None = None):
    """The Linen module that runs an NNX net in jaxgan's `nets` slots.

    `model` is an `nnx.Module` (jaxgan starts from its weights, as built; the key given
    to `create_train_state` does not change them) or a factory called as
    `model(rngs=nnx.Rngs(key))` (jaxgan's initialisation key draws the weights, as for
    its own nets). The module's `__call__` takes jaxgan's inputs (G: z; D: images) and
    `labels=` for conditional configs. Raises `UserError` for state jaxgan cannot thread
    (module docstring), leaving `model` untouched.
    """
    version = tuple(int(part) for part in re.findall(r"\d+", flax.__version__)[:2])
    if version < MIN_FLAX:
        raise UserError(
            f"jaxgan's NNX bridge needs flax >= {'.'.join(map(str, MIN_FLAX))}, this is "
            f"flax {flax.__version__}: pip install -U flax"
        )
    if isinstance(model, nnx.Module):
        label = name or type(model).__name__
        _, state = nnx.split(model)
        # Values copied out now (jax arrays are immutable), so later changes to the
        # user's module do not reach the net.
        values = {
            path: leaf.get_value()
            for path, leaf in nnx.to_flat_state(state)
            if isinstance(leaf, nnx.Variable) and not isinstance(leaf, NOT_KEPT)
        }
        return NNXNet(_layout(model, lambda key: values, label))
    if not callable(model):
        raise TypeError(f"from_nnx takes an nnx.Module or a factory of one, got {model!r}")
    # Built once, concretely (nnx.eval_shape would hide plain array attributes), for its
    # graph and its variables' types, shapes and dtypes.
    example = model(rngs=nnx.Rngs(0))
    if not isinstance(example, nnx.Module):
        raise TypeError(f"from_nnx: {model!r}(rngs=...) returned {type(example).__name__}")
    label = name or type(example).__name__

    def initial(key):
        _, state = nnx.split(model(rngs=nnx.Rngs(key)))
        return {path: leaf.get_value() for path, leaf in nnx.to_flat_state(state)}

    return NNXNet(_layout(example, initial, label))


class NNXNet(nn.Module):
    """A Linen module running an NNX net (made by `from_nnx`)."""

    layout: Layout

    @nn.compact
    def __call__(self, *args, train: bool = True, **kwargs):
        layout = self.layout
        if self.is_initializing():
            initial = layout.initial(self.make_rng("params"))
            for collection, tree in layout.nest(initial).items():
                for key, value in tree.items():
                    self.put_variable(collection, key, value)
        module = layout.merge(layout.flat(self.variables))
        module.set_attributes(
            deterministic=not train, use_running_average=not train, raise_if_not_found=False
        )
        if layout.passes_train:
            kwargs["train"] = train
        out = module(*args, **kwargs)
        values = layout.check_call(module)
        mutable = [c for c in {e.collection for e in layout.entries} if c != "params"]
        mutable = [c for c in mutable if self.is_mutable_collection(c)]
        for collection, tree in layout.nest(values, mutable).items():
            for key, value in tree.items():
                self.put_variable(collection, key, value)
        return out


def to_nnx(net: NNXNet, params, collections=None) -> nnx.Module:
    """The NNX module of `net` (from `from_nnx`) holding these variables, e.g. a trained
    state's `to_nnx(net, state.g.params, state.g.collections)` or its moving average
    `to_nnx(net, state.ema["g"], state.g.collections)` (its averaged collections under
    config.ema_collections: `state.ema[collections_key("g")]`). A new module each call."""
    layout = net.layout
    return layout.merge(layout.flat({"params": params, **(collections or {})}))
