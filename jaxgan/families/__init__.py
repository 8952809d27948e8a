"""GAN families: a family is a module of nets and update phases over one state.

`config.family` names the module: `jaxgan/families/<name>.py` for jaxgan's own, or any
importable module path containing a dot (`my_project.my_family`) for a user's. Nothing
is registered: the module is imported by name.

A family module defines:

  GENERATOR: str                    the net that makes samples ("g")
  OWN_FIELDS: tuple[str, ...]       config fields only this family reads (refused,
                                    when changed from their defaults, under another)
  build(config) -> {name: nn.Module}
  init(key, *, config, nets) -> TrainState   the step-0 state (pure: eval_shape works;
                                    the averages of ema_decays' nets are added to it)
  optimizers(config) -> {name: optax.GradientTransformation}, one per trained net
  phases(config, nets) -> [Phase, ...]    the updates of one step, in order
  ema_decays(config) -> {name: decay}     nets whose parameters keep a moving average (a
                                    decay may be a function of the traced step)
  sample_inputs(config) -> "z" | "z+labels" | "image"
  latent_distribution(config) -> "normal" | "uniform"  (optional; "normal" without it)
  evaluators(config) -> tuple[str, ...]   names in jaxgan.metrics.evaluation.EVALUATORS
  check_config(config)  (optional)        refuses settings the family cannot train
  USES_MODEL: bool  (optional; True)      False: nets of its own, config.model unread

An image-to-image family (cyclegan, pix2pix, srgan) also defines:

  translate(nets, state, direction, images)    "AtoB" or "BtoA", images in [-1, 1]
  side_multiple(config) -> int            what the generator needs image sides to divide by
  preview_inputs(dataset, config), preview(state, inputs, *, config, nets)
                                          the training strips (rows, columns, H, W, C)
  synthetic_batch(config, rng) -> batch   random data of its batch form (jaxgan.bench)
and optionally:
  TWO_DOMAINS = True; PAIRED = True       trains on datasets.TwoDomains (with pairs)
  DIRECTIONS                              the directions it translates (default both)
  MIN_SIDE                                the smallest image side it takes (default 16)
  output_scale(config) -> int             an upscaling net (srgan): jaxgan.upscale's
  resolve_config(config, dataset) -> config    fields taken from the data
  data_config(config) -> config           the config its dataset is read with
  real_batches(dataset, config, start, process_index, process_count)
                                          its own input pipeline (srgan's crops)

A user's family may be any object with those attributes (a module, a class, a
SimpleNamespace) given to `jaxgan.make_train_step(config, family=...)`.
"""

import dataclasses
import importlib
import pkgutil
import zlib
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, NamedTuple

import jax
import ml_collections

from jaxgan.runtime.errors import UserError
from jaxgan.training import schedules

Metrics = dict[str, jax.Array]


class Context(NamedTuple):
    """What a phase's loss sees besides the parameters it differentiates.

    state: the TrainState as earlier phases (and repetitions) of this step left it;
    batch: the step's batch; key: the step's key, fold_in(run key, step);
    index: the repetition (0..repeat-1); handoff: what the previous phase passed on
    within this step (traced values or closures; never stored)."""

    state: Any
    batch: Mapping[str, jax.Array]
    key: jax.Array
    index: int
    handoff: Mapping[str, Any]


# A loss returns (value, PhaseAux); gradients (optional) returns ((value, PhaseAux), grads).
class PhaseAux(NamedTuple):
    collections: Mapping[str, Any]  # net name -> its new mutable collections (any net)
    metrics: Metrics
    handoff: Mapping[str, Any] = {}
    extras: Mapping[str, Any] = {}  # new values of state.extras slots (merged in)


@dataclasses.dataclass(frozen=True)
class Phase:
    """One update of some nets within a step.

    `loss(params, ctx) -> (value, PhaseAux)` is differentiated with respect to `params`,
    a dict holding the parameters of the nets in `updates` (the other nets are read from
    ctx.state, read-only). A family with a cheaper way to the same gradients (the gan
    family's fused generator VJP) gives `gradients(params, ctx) -> ((value, aux), grads)`
    instead. The phase runs `repeat` times in a row (unrolled: d_steps), and only on
    steps where step % every == 0 (lazy regularisation; such a phase hands nothing on).
    `project[name](params)` runs after the net's optimiser update (weight clipping).
    """

    name: str
    updates: tuple[str, ...]
    loss: Callable[..., tuple[jax.Array, PhaseAux]] | None = None
    gradients: Callable[..., tuple[tuple[jax.Array, PhaseAux], dict]] | None = None
    repeat: int = 1
    every: int = 1
    project: Mapping[str, Callable[[Any], Any]] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if (self.loss is None) == (self.gradients is None):
            raise ValueError(f"phase {self.name!r} needs exactly one of loss and gradients")
        if self.repeat < 1 or self.every < 1:
            raise ValueError(f"phase {self.name!r}: repeat and every must be >= 1")


def stream(key: jax.Array, name: str) -> jax.Array:
    """A named random stream of a key: fold_in by a stable hash of the name, so adding a
    stream or a phase leaves the others' numbers as they were."""
    return jax.random.fold_in(key, zlib.crc32(name.encode()) & 0x7FFFFFFF)


SCHEDULE_SETTINGS = tuple(schedules.DEFAULTS)
GENERIC_SETTINGS = ("optimizer", *SCHEDULE_SETTINGS, "ema_start", "ema_collections")


def refuse_generic_settings(
    config,
    family: str,
    more: tuple[str, ...] = (),
    *,
    reads: tuple[str, ...] = (),
    hints: dict[str, str] | None = None,
) -> None:
    """Generic training settings (GENERIC_SETTINGS and `more`, less those the family
    `reads`) that a family's own optimisers and averages do not read: refused when
    changed, not ignored. `hints[field]` ends that field's message (e.g. the family's
    own schedule)."""
    from jaxgan.config import defaults

    base, hints = defaults.base_config(), hints or {}
    for field in (*GENERIC_SETTINGS, *more):
        if field not in reads and config[field] != base[field]:
            raise UserError(
                f"config.{field}={config[field]!r}: the {family} family's optimisers and "
                f"averages are the reference's and do not read it; leave it at "
                f"{base[field]!r}{hints.get(field, '')}"
            )


def refuse_image_size_not_doubling(config, family: str, what: str) -> None:
    """Families whose nets double the resolution from 4x4 (progan, stylegan2) take
    image sizes that are powers of two >= 8."""
    size = config.image_size
    if not isinstance(size, int) or size < 8 or size & (size - 1):
        raise UserError(
            f"the {family} family's {what} doubles the resolution from 4x4: "
            f"config.image_size must be a power of two >= 8, got {size}"
        )


def refuse_ungroupable_batch(config, field: str) -> None:
    """Minibatch stddev groups min(group, batch) samples: a larger batch must divide
    into them (the references' reshape fails too)."""
    group = config[field]
    if group > 1 and config.batch_size > group and config.batch_size % group:
        raise UserError(
            f"config.batch_size={config.batch_size} must divide into minibatch-stddev groups "
            f"of config.{field}={group}"
        )


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def load(name: str) -> ModuleType:
    """The family module `name`: jaxgan's own by short name, or a user's by dotted path."""
    if "." not in name:
        if name not in available():
            raise UserError(
                f"unknown config.family {name!r}: jaxgan has {available()}, or give the "
                "dotted path of a module of your own (my_project.my_family)"
            )
        name = f"{__name__}.{name}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        raise UserError(
            f"config.family {name!r} cannot be imported ({error}): is its package on PYTHONPATH?"
        ) from error
    missing = [attribute for attribute in REQUIRED if not hasattr(module, attribute)]
    if missing:
        raise UserError(
            f"config.family {name!r} is not a family module: it lacks {', '.join(missing)} "
            "(see jaxgan/families/__init__.py)"
        )
    return module


REQUIRED = ("GENERATOR", "build", "init", "optimizers", "phases", "ema_decays", "evaluators")


def of(config: ml_collections.ConfigDict):
    return load(config.get("family", "gan"))
