"""Unrolled GAN (Metz et al. 2017, arXiv:1611.02163).

Run:
  python -m jaxgan.main --config=configs/unrolled_gan.py --workdir=runs/unrolled
  python -m jaxgan.main --config=configs/unrolled_gan.py:10 --workdir=runs/unrolled10

The generator's update differentiates through `unroll_steps` (5 by default, or the
number after ':') discriminator optimiser steps, the paper's Adam (1e-4, beta1 0.5) on
the DCGAN architecture. Each step costs about unroll_steps + 1 discriminator
forward/backward passes more than a plain step. The paper's figure 1 shows the
effect on a mixture of Gaussians; jaxgan has not yet measured it.
"""

from jaxgan import base_config


def get_config(arg: str | None = None):
    config = base_config()
    config.unroll_steps = int(arg) if arg else 5
    config.g_learning_rate = config.d_learning_rate = 1e-4
    return config
