"""CycleGAN (Zhu et al. 2017): the `cyclegan` family (jaxgan/families/cyclegan.py) with
the settings of junyanz/pytorch-CycleGAN-and-pix2pix's `train.py --model cycle_gan`.

Run (CycleGAN's data layout: DIR/horse2zebra/trainA, trainB, testA, testB):
  python -m jaxgan.main --config=configs/cyclegan.py \
      --config.dataset=unpaired:DIR/horse2zebra --workdir=runs/h2z
  python -m jaxgan.translate --workdir=runs/h2z --input=my_photos/ --out=zebras/
  python -m jaxgan.main --config=configs/cyclegan.py:mnist_thick --workdir=runs/thick

The reference's defaults (read from its code, not run): 256-px crops of images resized
to 286x286 (aspect ignored) and mirrored at random; the ResNet generator with 9 blocks
and 64 base channels, the 70x70 PatchGAN with 64, instance normalisation, weights
N(0, 0.02); the least-squares GAN loss, cycle weights 10 and 10, identity weight 0.5 of
them, D's loss halved, G's update before D's, a history of 50 fakes per D; Adam 2e-4
(beta1 0.5, beta2 0.999), batch 1; the rate constant for 100 epochs, then down by 1/101
an epoch for 100 more (never 0). An epoch is the larger domain's image count over the
batch (the run's first lines say how many steps that is); num_train_steps is 200
epochs of horse2zebra (1,334 images in trainB); on other data the run says what 200
epochs are.

`:128` is the reference's 128-px setting (6 residual blocks, images resized to 143).
`:mnist_thick` is the offline demonstration MNIST -> thick MNIST
(jaxgan/data/datasets/mnist_thick.py): 28-px grey digits, 6 blocks, widths 32, no
flips (digits are not mirror-symmetric) and no crop jitter, batch 16, 3,000 steps
(48k images of each domain, 1.6 passes over its 30k), the rate constant for 1,500 steps
and then down in 6 stages of 250 steps by the reference's rule. Its widths, batch and
length are this project's choices for a CPU (about 1.2 s a step on one core), not the
paper's.

Measured (`:mnist_thick`, seed 0, 10k test digits): class preservation 98.61% A -> B
and 98.36% B -> A; mean absolute error to the true counterpart 0.0205 / 0.0229 (0.1288
for the untranslated input); cycle error 0.018 / 0.017 (README). The 256-px settings
are not trained here.

What differs from the reference: random numbers (the history pool draws with JAX's
keys; each domain is read in its own per-pass permutation where the reference draws B
uniformly); transposed convolutions in Flax's form (see _translation_nets.py).
"""

from jaxgan import base_config

HORSE2ZEBRA_EPOCH = 1334  # images in horse2zebra's trainB, its larger domain


def get_config(arg: str | None = None):
    config = base_config()
    config.family = "cyclegan"
    config.dataset = "unpaired:datasets/horse2zebra"
    config.image_size = 256
    config.num_channels = 3
    config.batch_size = 1
    config.g_width = config.d_width = 64
    config.cyclegan_blocks = 9
    config.g_learning_rate = config.d_learning_rate = 2e-4
    config.g_beta1 = config.d_beta1 = 0.5
    config.g_beta2 = config.d_beta2 = 0.999
    config.translation_epochs = config.translation_decay_epochs = 100
    config.num_train_steps = 200 * HORSE2ZEBRA_EPOCH
    config.log_every_steps = 100  # the reference's print_freq
    config.checkpoint_every_steps = 5000  # its save_latest_freq
    if arg == "128":
        config.image_size = 128
        config.cyclegan_blocks = 6
    elif arg == "mnist_thick":
        config.dataset = "mnist_thick"
        config.image_size = 28
        config.num_channels = 1
        config.g_width = config.d_width = 32
        config.cyclegan_blocks = 6
        config.translation_load_size = 28
        config.translation_flip = False
        config.batch_size = 16
        # The rate's "epochs" are 250 steps (4,000 images): 6 at the full rate, 6 down.
        config.translation_epoch_steps = 250
        config.translation_epochs = config.translation_decay_epochs = 6
        config.num_train_steps = 3000
        config.checkpoint_every_steps = 500
    elif arg not in (None, ""):
        raise ValueError(f"configs/cyclegan.py takes nothing, '128' or 'mnist_thick', got {arg!r}")
    return config
