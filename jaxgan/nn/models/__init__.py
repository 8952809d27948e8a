"""Generator/discriminator pairs, chosen by module name: `config.model` names
`jaxgan/nn/models/<model>.py`, which defines `Generator` and `Discriminator`.

The module's `build(config)` returns both, pure Flax linen modules:
`Generator(z, labels=None, train) -> images in [-1, 1]` (or, with config.data_dim > 0,
vectors (batch, data_dim), unbounded) and
`Discriminator(images, labels=None, train) -> logits of shape (batch,)`.

`labels` (int (batch,)) are given to conditional models (`config.conditional`) and
refused by unconditional ones. A module lists the forms of conditioning it supports
(see jaxgan/nn/conditioning.py) in `CONDITIONAL_FORMS`, and may define
`check_config(config)` to refuse settings it does not support.
"""

import importlib
import pkgutil
from types import ModuleType

import ml_collections

from jaxgan.runtime.errors import UserError


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def get_module(name: str) -> ModuleType:
    if name not in available():
        raise UserError(f"unknown model {name!r}: config.model must be one of {available()}")
    return importlib.import_module(f"{__name__}.{name}")


def data_shape(config: ml_collections.ConfigDict) -> tuple[int, ...]:
    """The shape of one sample that G makes and D judges."""
    if config.data_dim:
        return (config.data_dim,)
    return (config.image_size, config.image_size, config.num_channels)


def image_range(config: ml_collections.ConfigDict) -> tuple[float, float]:
    """The range of images the model's networks are defined on: jaxgan's (-1, 1) unless
    the module says otherwise in `IMAGE_RANGE` (infogan: (0, 1), Lucic et al.'s). Models
    take and make jaxgan's range; gradient penalties are taken in this one."""
    if config.data_dim:
        return (-1.0, 1.0)
    return tuple(getattr(get_module(config.model), "IMAGE_RANGE", (-1.0, 1.0)))


def build(config: ml_collections.ConfigDict):
    """Returns (generator, discriminator) modules for the config."""
    module = get_module(config.model)
    return module.build(config)
