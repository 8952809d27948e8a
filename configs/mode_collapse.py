"""The mode-collapse laboratory: one benchmark and one remedy, `DATASET,REMEDY`.

Run:
  python -m jaxgan.main --config=configs/mode_collapse.py:ring8,gan --workdir=runs/ring8-gan
  python -m jaxgan.evaluate --workdir=runs/ring8-gan      # modes, hq_pct, reverse_kl
  launch/mode_collapse.sh ring8 sweeps/ring8              # every remedy over 3 seeds

DATASET: `ring8`, `grid25` (2D mixtures, the MLP GAN) or `stacked_mnist` (the DCGAN at
28x28x3). REMEDY: `gan` (none), `unrolled5`, `unrolled10` (Metz et al. 2017),
`minibatch` (mini-batch discrimination, Salimans et al. 2016, B=100, C=5), `pack2`,
`pack3`, `pack4` (PacGAN, Lin et al. 2018: D sees 2-4 samples concatenated).

2D networks: G and D with two ReLU hidden layers of 128 units, G's output linear, latent
dimension 256, batch 512, Adam (beta1 0.5) at 1e-3 for G and 1e-4 for D, 25k steps. These
are the settings of the unrolled GAN's mixture-of-Gaussians experiment as we remember
its public notebook; we could not check the paper or the notebook from here, so widths,
activations, latent size, learning rates and step count are unverified. VEEGAN's and
PacGAN's own 2D networks are not reproduced.

Stacked MNIST uses jaxgan's DCGAN (widths 64, Adam 2e-4, beta1 0.5, batch 64) for 20k
steps; Metz et al. shrink D to make collapse likelier, and that is not reproduced either.

Published numbers to compare with (not re-checked against the papers here: they are
the figures we were given, and we could not reach the papers' tables to verify them):
  VEEGAN (Srivastava et al. 2017) Table 1, modes / % high-quality samples:
    2D ring (8 modes):  GAN 1.0 / 99.3,  unrolled GAN 7.6 / 35.6,  VEEGAN 8.0 / 52.9
    2D grid (25 modes): GAN 3.3 / 0.5,   unrolled GAN 23.6 / 16,   VEEGAN 24.6 / 40
  VEEGAN Table 2, stacked MNIST, modes (of 1000) / KL:
    DCGAN 99 / 3.4,  unrolled GAN 48.7 / 4.32,  VEEGAN 150 / 2.95
  PacGAN (Lin et al. 2018) Tables 1-3 (modes, high-quality %, reverse KL for ring8 and
  grid25 with packing 2-4; modes and KL for stacked MNIST): we found none of their
  numbers from here, so none is quoted.
jaxgan has measured only short CPU runs of ring8 (seed 0, 5000 steps: gan 0 modes,
unrolled5 6 modes / 1.8% high quality, pack2 8 modes / 24.4%; see the README's
"Mode-collapse laboratory"); none of these tables has been reproduced.
"""

from jaxgan.config_defaults import base_config

DATASETS = ("ring8", "grid25", "stacked_mnist")
REMEDIES = ("gan", "unrolled5", "unrolled10", "minibatch", "pack2", "pack3", "pack4")


def get_config(arg: str | None = None):
    dataset, _, remedy = (arg or "ring8,gan").partition(",")
    remedy = remedy or "gan"
    if dataset not in DATASETS or remedy not in REMEDIES:
        raise ValueError(
            f"configs/mode_collapse.py takes DATASET,REMEDY with DATASET in {DATASETS} and "
            f"REMEDY in {REMEDIES}, got {arg!r}"
        )
    config = base_config()
    config.dataset = dataset
    if dataset == "stacked_mnist":
        config.num_channels = 3
        config.batch_size = 64
        config.num_train_steps = 20_000
    else:
        config.data_dim = 2
        config.model = "mlp"
        config.mlp_d_maxout = False
        config.g_width = config.d_width = 128
        config.latent_dim = 256
        config.d_norm = "none"
        config.batch_size = 512
        config.g_learning_rate, config.d_learning_rate = 1e-3, 1e-4
        config.num_train_steps = 25_000
        # Points in the scatter plot written with every checkpoint.
        config.num_samples = 2500
    if remedy.startswith("unrolled"):
        config.unroll_steps = int(remedy.removeprefix("unrolled"))
    elif remedy == "minibatch":
        config.minibatch_features = "minibatch_discrimination"
    elif remedy.startswith("pack"):
        config.pack = int(remedy.removeprefix("pack"))
    return config
