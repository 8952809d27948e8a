"""pix2pix (Isola et al. 2017): the `pix2pix` family (jaxgan/families/pix2pix.py) with
the settings of junyanz/pytorch-CycleGAN-and-pix2pix's `train.py --model pix2pix`.

Run (pix2pix's aligned layout: DIR/facades/train/ of A|B images side by side, test/):
  python -m jaxgan.main --config=configs/pix2pix.py \\
      --config.dataset=paired:DIR/facades --workdir=runs/facades
  python -m jaxgan.translate --workdir=runs/facades --input=labels/ --out=facades/

The reference's defaults (read from its code, not run): the U-Net unet_256 with 64 base
channels and BatchNorm, dropout 0.5 in its three innermost 8-width levels (also at test
time, where BatchNorm keeps using batch statistics: its test.py does not call eval()),
the 70x70 PatchGAN with BatchNorm on the concatenated (input, output), the vanilla GAN
loss (BCE with logits) + 100 x L1, D's loss halved, D updated before G; Adam 2e-4 (beta1
0.5, beta2 0.999), batch 1; 286 -> random 256 crops and flips, the same for both halves
of a pair; the rate constant for 100 epochs then down by 1/101 an epoch for 100 more.
num_train_steps is 200 epochs of facades (400 training pairs); the run's first lines
say what 200 epochs are on other data. `pix2pix_direction = "BtoA"` learns B -> A, as
the reference's facades example (labels -> photos) does.

What differs from the reference: random numbers; transposed convolutions in Flax's
form (see _translation_nets.py). Not trained here yet: no FID or PSNR measured.
"""

from jaxgan import base_config

FACADES_PAIRS = 400  # training pairs of facades


def get_config(arg: str | None = None):
    config = base_config()
    config.family = "pix2pix"
    config.dataset = "paired:datasets/facades"
    config.image_size = 256
    config.num_channels = 3
    config.batch_size = 1
    config.g_width = config.d_width = 64
    config.pix2pix_downs = 8
    config.pix2pix_lambda_l1 = 100.0
    config.g_learning_rate = config.d_learning_rate = 2e-4
    config.g_beta1 = config.d_beta1 = 0.5
    config.g_beta2 = config.d_beta2 = 0.999
    config.translation_epochs = config.translation_decay_epochs = 100
    config.num_train_steps = 200 * FACADES_PAIRS
    config.log_every_steps = 100
    config.checkpoint_every_steps = 5000
    if arg not in (None, ""):
        raise ValueError(f"configs/pix2pix.py takes no argument, got {arg!r}")
    return config
