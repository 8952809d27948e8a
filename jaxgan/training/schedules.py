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

`lr_schedule` and `lr_warmup_steps` set both nets; `g_lr_schedule`, `d_lr_schedule`
('' follows lr_schedule) and `g_lr_warmup_steps`, `d_lr_warmup_steps` (-1 follows
lr_warmup_steps) set one net's own (e.g. a warm-up for G only). Nets trained with G's
optimiser settings (BiGAN's encoder) follow G's.
"""

from collections.abc import Mapping
from typing import Any

import optax

from jaxgan.runtime.errors import UserError

KINDS = ("constant", "linear")
NETS = ("g", "d")
# A per-net field's value that defers to the shared field.
FOLLOW = {"lr_schedule": "", "lr_warmup_steps": -1}
# Every schedule field and its default (config_defaults).
DEFAULTS = {
    "lr_schedule": "constant",
    "lr_warmup_steps": 0,
    **{f"{net}_{name}": follow for name, follow in FOLLOW.items() for net in NETS},
}


def _field(config: Mapping[str, Any], net: str, name: str) -> tuple[str, Any]:
    """(the field that sets `name` for `net`, its value): the net's own where set."""
    own = f"{net}_{name}"
    if config.get(own, FOLLOW[name]) != FOLLOW[name]:
        return own, config[own]
    return name, config.get(name, DEFAULTS[name])


def settings(config: Mapping[str, Any], net: str) -> tuple[str, int]:
    """(schedule kind, warm-up steps) of net 'g' or 'd'. `config` may be a stored
    config.json's dict."""
    return _field(config, net, "lr_schedule")[1], _field(config, net, "lr_warmup_steps")[1]


def decays(config: Mapping[str, Any]) -> bool:
    """Whether a net's rate depends on num_train_steps (a `linear` schedule)."""
    return any(settings(config, net)[0] != "constant" for net in NETS)


def scheduled(config: Mapping[str, Any]) -> bool:
    """Whether either net's rate changes over the run (a schedule or a warm-up)."""
    return any(settings(config, net) != ("constant", 0) for net in NETS)


def changed(config: Mapping[str, Any]) -> list[str]:
    """'field=value' of each schedule field set away from its default."""
    return [
        f"{field}={config[field]!r}"
        for field, default in DEFAULTS.items()
        if config.get(field, default) != default
    ]


def _check_kind(field: str, kind: Any, follow: bool) -> None:
    if kind not in (("", *KINDS) if follow else KINDS):
        choices = " or ".join(map(repr, KINDS))
        if follow:
            choices = f"'', {choices} ('' follows lr_schedule)"
        raise UserError(f"config.{field} must be {choices}, got {kind!r}")


def _check_warmup(field: str, warmup: Any, follow: bool) -> None:
    least = -1 if follow else 0
    if not isinstance(warmup, int) or isinstance(warmup, bool) or warmup < least:
        also = " (-1 follows lr_warmup_steps)" if follow else ""
        raise UserError(f"config.{field} must be an integer >= {least}{also}, got {warmup!r}")


def check(config) -> None:
    _check_kind("lr_schedule", config.get("lr_schedule", "constant"), follow=False)
    _check_warmup("lr_warmup_steps", config.get("lr_warmup_steps", 0), follow=False)
    for net in NETS:
        _check_kind(f"{net}_lr_schedule", config.get(f"{net}_lr_schedule", ""), follow=True)
        _check_warmup(
            f"{net}_lr_warmup_steps", config.get(f"{net}_lr_warmup_steps", -1), follow=True
        )
        field, warmup = _field(config, net, "lr_warmup_steps")
        if warmup >= config.num_train_steps and warmup:
            raise UserError(
                f"config.{field}={warmup} leaves no step at the full rate: it must be "
                f"below num_train_steps ({config.num_train_steps})"
            )


def in_steps(config, base: float, *, net: str) -> float | optax.Schedule:
    """The learning rate of net 'g' or 'd' at each training step: a float when constant."""
    kind, warmup = settings(config, net)
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
    config, base: float, updates_per_step: int = 1, *, net: str
) -> float | optax.Schedule:
    """The rate as net 'g' or 'd''s optimiser sees it: a function of its update count,
    which grows `updates_per_step` times per training step."""
    schedule = in_steps(config, base, net=net)
    if not callable(schedule) or updates_per_step == 1:
        return schedule
    return lambda count: schedule(count // updates_per_step)
