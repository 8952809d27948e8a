"""SNGAN with the ResNet generator and discriminator (Miyato et al. 2018,
arXiv:1802.05957, appendix B.4), and its class-conditional version (Miyato & Koyama
2018, arXiv:1802.05637).

Run:
  python -m jaxgan.main --config=configs/sngan_resnet.py --workdir=runs/sngan_resnet
  python -m jaxgan.main --config=configs/sngan_resnet.py:conditional --workdir=runs/sncgan

The paper's ResNet settings: spectral normalization on every D layer, the hinge loss,
n_dis = 5 D updates per G update, Adam (2e-4, beta1 0, beta2 0.9) for both, batch 64,
z of 128 dimensions, 32x32x3 images, G 256 channels wide and D 128, 50k G updates. The
paper reports FID 21.7 on CIFAR-10 for this unconditional model; bring CIFAR-10 with
`--config.dataset=tfds:cifar10 --config.data_dir=DIR` (README, "Datasets"). The
authors' code also decays both learning rates linearly to 0; jaxgan keeps them constant,
and has not measured this config's FID.

On the embedded MNIST (the default dataset) it runs at 32x32 with each digit repeated to
RGB. `:conditional` is the cGAN: conditional BatchNorm in G's ResBlocks and the
projection discriminator, with the dataset's classes (10 for MNIST and CIFAR-10).
"""

from jaxgan import base_config


def get_config(arg: str | None = None):
    config = base_config()
    config.model = "resnet"
    config.loss = "hinge"
    config.d_norm = "spectral_norm"
    config.d_steps = 5
    config.g_learning_rate = config.d_learning_rate = 2e-4
    config.g_beta1 = config.d_beta1 = 0.0
    config.g_beta2 = config.d_beta2 = 0.9
    config.batch_size = 64
    config.latent_dim = 128
    config.image_size = 32
    config.num_channels = 3
    config.g_width = 256
    config.d_width = 128
    config.num_train_steps = 50000
    config.checkpoint_every_steps = 5000
    if arg == "conditional":
        config.conditional = True
        config.conditional_form = "projection"
    elif arg not in (None, ""):
        raise ValueError(f"configs/sngan_resnet.py takes nothing or 'conditional', got {arg!r}")
    return config
