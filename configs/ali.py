"""ALI (Dumoulin et al. 2017, "Adversarially Learned Inference", arXiv:1606.00704):
the bigan family with a stochastic encoder and dropout in the joint discriminator.

Run:
  python -m jaxgan.main --config=configs/ali.py --workdir=runs/ali          # MNIST, 28 px
  python -m jaxgan.main --config=configs/ali.py:32 --workdir=runs/ali32     # 32 px
  python -m jaxgan.evaluate --workdir=runs/ali

As ALI's code (github.com/IshmaelBelghazi/ALI, `ali/bricks.py`,
`experiments/ali_cifar10.py`): E outputs a mean and a log standard deviation and
z = mu + exp(log sigma) eps with a N(0, I) prior; dropout 0.2 on the inputs of D's x and
z trunks and of its joint layers; E, G and D updated simultaneously with the
non-saturating loss; Adam 1e-4, beta1 0.5; batch 100; latent 64.

NOT the paper's networks: jaxgan's conv nets (jaxgan/families/_bigan_nets.py: three
strided 4x4 convolutions per image trunk, width 64, LeakyReLU 0.2) are smaller than
ALI's CIFAR-10 nets (five or six convolutions per trunk, maxout in D, dropout 0.5 in
D's deeper layers), and no run of this config has been measured against the paper.
"""

from jaxgan import base_config


def get_config(arg: str | None = None):
    config = base_config()
    config.family = "bigan"
    config.bigan_nets = "conv"
    config.bigan_encoder = "gaussian"
    config.bigan_latent = "normal"
    config.bigan_d_dropout = 0.2
    config.latent_dim = 64
    config.batch_size = 100
    config.g_width = config.d_width = 64
    config.g_learning_rate = config.d_learning_rate = 1e-4
    config.g_beta1 = config.d_beta1 = 0.5
    config.g_beta2 = config.d_beta2 = 0.999
    if arg in (None, "", "28"):
        config.image_size = 28
    elif arg == "32":
        config.image_size = 32
    else:
        raise ValueError(f"configs/ali.py takes 28 or 32 after ':', got {arg!r}")
    return config
