"""Least-squares GAN (Mao et al. 2017, arXiv:1611.04076).

Run:
  python -m jaxgan.main --config=configs/lsgan.py --workdir=runs/lsgan

The 0-1 coding of eq. 9 (a=0, b=c=1) on the DCGAN architecture with Adam (2e-4,
beta1 0.5), as the paper's experiments.

Measured on MNIST (2026-12-07, 5,000 steps; 10k samples against the 10k test
images, launch/config_fids.sh), seeds 0 and 1: FID 30.6 ± 1.6 (31.8, 29.5), KID 0.022,
precision 0.23-0.24, recall 0.57-0.58; the default DCGAN reaches 23.3 ± 1.4 under the
same protocol (README, "Evaluation").
"""

from jaxgan import base_config


def get_config(arg: str | None = None):
    del arg
    config = base_config()
    config.loss = "least_squares"
    return config
