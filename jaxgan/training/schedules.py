"""Learning-rate schedules for G and D, in training steps (one G update each):

  constant  the rate throughout (the default; the optimiser gets a plain float, so the
            step and its checkpoints are exactly those of a run without schedules)
  linear    decays linearly to 0 at num_train_steps (Mimicry's lr_decay='linear', the
            schedule of SNGAN's authors' code)

with, for either, `lr_warmup_steps` of linear warm-up from 0 first (optax's convention:
0 at step 0), after which `linear` decays from the full rate to 0 at the end. The rate
is a function of the optimiser's own update count, which the checkpoint holds, so a
resumed run continues the schedule exactly. D updates `d_steps` times per step; its
count is divided by that, so both nets follow the same schedule of steps.
"""

import ml_collections
import optax

from jaxgan.runtime.errors import UserError

KINDS = ("constant", "linear")


def check(config: ml_collections.ConfigDict) -> None:
    kind, warmup = config.get("lr_schedule", "constant"), config.get("lr_warmup_steps", 0)
    if kind not in KINDS:
        raise UserError(f"config.lr_schedule must be one of {KINDS}, got {kind!r}")
    if not isinstance(warmup, int) or isinstance(warmup, bool) or warmup < 0:
        raise UserError(f"config.lr_warmup_steps must be an integer >= 0, got {warmup!r}")
    if warmup >= config.num_train_steps and warmup:
        raise UserError(
            f"config.lr_warmup_steps={warmup} leaves no step at the full rate: it must be "
            f"below num_train_steps ({config.num_train_steps})"
        )


def in_steps(config: ml_collections.ConfigDict, base: float) -> float | optax.Schedule:
    """The learning rate of a net at each training step: a float when constant."""
    kind, warmup = config.get("lr_schedule", "constant"), config.get("lr_warmup_steps", 0)
    if kind == "constant" and not warmup:
        return base
    after = (
        optax.constant_schedule(base)
        if kind == "constant"
        else optax.linear_schedule(base, 0.0, config.num_train_steps - warmup)
    )
    if not warmup:
        return after
    return optax.join_schedules([optax.linear_schedule(0.0, base, warmup), after], [warmup])


def learning_rate(
    config: ml_collections.ConfigDict, base: float, updates_per_step: int = 1
) -> float | optax.Schedule:
    """The rate as the optimiser sees it: a function of its update count, which grows
    `updates_per_step` times per training step."""
    schedule = in_steps(config, base)
    if not callable(schedule) or updates_per_step == 1:
        return schedule
    return lambda count: schedule(count // updates_per_step)
