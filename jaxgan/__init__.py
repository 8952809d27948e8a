"""jaxgan: generative adversarial networks in JAX/Flax.

The pieces an outside JAX program needs: a config, the state and the jitted step; and
a trained run's generator as a Python callable (`load_generator`).
"""

__version__ = "0.2.0"

from jaxgan.config.defaults import base_config  # noqa: E402
from jaxgan.config.loading import load_config  # noqa: E402
from jaxgan.nn import models  # noqa: E402
from jaxgan.objectives import losses  # noqa: E402
from jaxgan.runtime.errors import UserError  # noqa: E402
from jaxgan.sampling.generator import Generator, load_generator  # noqa: E402
from jaxgan.training.state import GANState, NetState, TrainState, create_train_state  # noqa: E402
from jaxgan.training.step import gan_step, make_train_step  # noqa: E402

__all__ = [
    "GANState",
    "Generator",
    "NetState",
    "UserError",
    "TrainState",
    "base_config",
    "create_train_state",
    "gan_step",
    "load_config",
    "load_generator",
    "losses",
    "make_train_step",
    "models",
]
