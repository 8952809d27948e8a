"""Wasserstein GAN with weight clipping (Arjovsky et al. 2017, arXiv:1701.07875).

Run:
  python -m jaxgan.main --config=configs/wgan.py --workdir=runs/wgan

The paper's Algorithm 1: RMSProp at 5e-5, 5 critic updates per generator update, critic
weights clipped to [-0.01, 0.01], batch 64, on the DCGAN architecture (the paper kept
BatchNorm in the critic; so does this config). The critic's loss estimates -W1 up to
a constant; the paper reports it falling as sample quality improves.

Measured on MNIST (2026-12-07, seed 0, 10,000 steps; 10k samples against the 10k test
images, launch/config_fids.sh): FID 50.3, KID 0.042, precision 0.08, recall 0.39 -- the
worst of the DCGAN-architecture configs at their default lengths (DCGAN 23.3 ± 1.4);
many digits malformed (README, "Evaluation"). The paper reports no MNIST score; it
trains far longer (its LSUN runs: 100k+ generator iterations) and notes that weight
clipping is slow to converge at this learning rate.
"""

from jaxgan import base_config


def get_config(arg: str | None = None):
    del arg
    config = base_config()
    config.loss = "wasserstein"
    config.d_weight_clip = 0.01
    config.d_steps = 5
    config.optimizer = "rmsprop"
    config.g_learning_rate = 5e-5
    config.d_learning_rate = 5e-5
    config.batch_size = 64
    config.num_train_steps = 10000
    return config
