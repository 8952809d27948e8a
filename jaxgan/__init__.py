"""jaxgan: generative adversarial networks in JAX/Flax.

The pieces an outside JAX program needs: a config, the state and the jitted step.
"""

__version__ = "0.2.0"

from jaxgan.config.defaults import base_config  # noqa: E402
from jaxgan.config.loading import load_config  # noqa: E402
from jaxgan.nn import models  # noqa: E402
from jaxgan.objectives import losses
from jaxgan.training.state import GANState, NetState, TrainState, create_train_state  # noqa: E402
from jaxgan.training.step import gan_step, make_train_step  # noqa: E402

__all__ = [
    "GANState",
    "NetState",
    "TrainState",
    "base_config",
    "create_train_state",
    "gan_step",
    "load_config",
    "losses",
    "make_train_step",
    "models",
]
