"""Progressive growing of GANs (Karras et al. 2018): the `progan` family
(jaxgan/families/progan.py), as github.com/tkarras/progressive_growing_of_gans trains it.

Run (any folder of images, or a prepared dataset for sets larger than memory):
  python -m jaxgan.main --config=configs/progan.py --config.dataset=folder:DIR/images \\
      --workdir=runs/progan
  python -m jaxgan.main --config=configs/progan.py:fashion --workdir=runs/progan-fashion

The reference's settings at 32x32 (its networks.py defaults and config.py's default
preset-v2-1gpu): G_paper / D_paper (channels min(8192 / 2^stage, 512), pixel norm,
equalized learning rate, minibatch stddev over groups of 4), WGAN-GP (lambda 10, target
1) + 0.001 D(real)^2, Adam (0, 0.99, 1e-8) at 1e-3 for G and D, 600 kimg per stable
phase and 600 per fade-in from 4x4, batch 64 (the preset's 32-px minibatch), G's moving
average at 0.999 per step, 12,000 kimg in all (187,500 steps).

Parameter counts equal the reference's at 32x32x3: G 20,719,628, D 20,726,785 (every
resolution's toRGB/fromRGB included; tests/test_progan.py).

What differs from the reference: one batch size for the whole run (the preset changes it
with the resolution: 128 up to 16x16, 64 at 32x32); the reals of lower levels are pooled
from the full-resolution float images (the reference stores each level rounded to
uint8); G's moving average is taken after the step's G update (the reference's beside
the D update); TF1 Adam's epsilon placement.

No FID has been measured with this config yet.

`:fashion` is the offline CPU demonstration: Fashion-MNIST resized to 32x32 (grey),
channels min(1024 / 2^stage, 128), 30 kimg per phase, 240 kimg (3,750 steps) in all;
its FID is against fashion_mnist:test.
"""

from jaxgan import base_config


def get_config(arg: str | None = None):
    config = base_config()
    config.family = "progan"
    config.dataset = "folder:datasets/images"
    config.image_size = 32
    config.num_channels = 3
    config.latent_dim = 512
    config.batch_size = 64
    config.g_learning_rate = config.d_learning_rate = 1e-3
    config.g_beta1 = config.d_beta1 = 0.0
    config.g_beta2 = config.d_beta2 = 0.99
    config.g_ema_decay = 0.999
    config.progan_training_kimg = config.progan_transition_kimg = 600.0
    config.num_train_steps = 12_000_000 // config.batch_size
    config.checkpoint_every_steps = 5_000
    if arg == "fashion":
        config.dataset = "fashion_mnist"
        config.fid_reference = "fashion_mnist:test"
        config.num_channels = 1
        config.progan_fmap_base, config.progan_fmap_max = 1024, 128
        config.progan_training_kimg = config.progan_transition_kimg = 30.0
        config.num_train_steps = 240_000 // config.batch_size
        config.checkpoint_every_steps = 250
    elif arg:
        raise ValueError(f"configs/progan.py takes '' or 'fashion', got {arg!r}")
    return config
