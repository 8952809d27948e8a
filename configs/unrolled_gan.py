"""Unrolled GAN (Metz et al. 2017, arXiv:1611.02163).

Run:
  python -m jaxgan.main --config=configs/unrolled_gan.py --workdir=runs/unrolled
  python -m jaxgan.main --config=configs/unrolled_gan.py:10 --workdir=runs/unrolled10

The generator's update differentiates through `unroll_steps` (5 by default, or the
number after ':') discriminator optimiser steps, the paper's Adam (1e-4, beta1 0.5) on
the DCGAN architecture. Each step costs about unroll_steps + 1 discriminator
forward/backward passes more than a plain step. The paper's figure 1 shows the
effect on a mixture of Gaussians: configs/mode_collapse.py:metz_ring,unrolled5 is that
benchmark with the notebook's networks (every mode in every seed; README).

Measured on MNIST (2026-12-07, seed 0, 5,000 x 128, 10k samples against the 10k test
images): FID 140.5, precision 0.003, recall 0.02 -- far worse than the default DCGAN
(23.3 +- 1.4), with D winning from the start. Investigated (README "Evaluation"): the
learning rate alone is not the cause (without unrolling, at this config's 1e-4: FID
26.4); the second-order term is (first order only, `--config.unrolled_second_order=False`:
FID 26.2), and a higher rate lessens it (second order at DCGAN's 2e-4: FID 71.7, digits
but speckled). The second-order part of G's gradient points against the first-order gradient
and cancels much of it (early in training two thirds, leaving a gradient 30-40 degrees
off; `python -m jaxgan.launch.unrolled_gradients RUN`), and D pulls ahead. One
unrolled step (`:1`) is worse still (FID 175.0; there the second-order part can
outweigh the first-order gradient and reverse it).
So this config is the paper's algorithm and optimiser, not a reproduction of a published
image result (the paper reports none on MNIST).
"""

from jaxgan import base_config


def get_config(arg: str | None = None):
    config = base_config()
    config.unroll_steps = int(arg) if arg else 5
    config.g_learning_rate = config.d_learning_rate = 1e-4
    return config
