"""StyleGAN2 (Karras et al. 2020): the `stylegan2` family (jaxgan/families/stylegan2.py),
as NVlabs/stylegan2-ada-pytorch trains it without ADA, in pure JAX (no custom CUDA
kernels: upfirdn2d and the modulated convolutions are jnp/lax).

Run (any folder of images, or a prepared dataset for sets larger than memory):
  python -m jaxgan.prepare_dataset --source=ffhq/ --out=data/ffhq256 --resolution=256
  python -m jaxgan.main --config=configs/stylegan2.py --config.dataset=prepared:data/ffhq256 \\
      --config.x_flip=True --workdir=runs/ffhq
  python -m jaxgan.main --config=configs/stylegan2.py:fashion --workdir=runs/sg2-fashion

The default is the reference's `paper256` configuration (train.py's cfg_specs): 256 px,
8 mapping layers, channels min(16384 / resolution, 512), minibatch-stddev groups of 8,
batch 64, Adam (0, 0.99) at 0.0025, R1 gamma 1 every 16 steps, path length 2 every 4,
style mixing 0.9, G's average with a 20k-image half-life, activations clamped at 256,
25,000 kimg. `:cifar` is its `cifar` configuration (CIFAR-10's numbers use it): 32 px,
conditional, 2 mapping layers, channels 512, orig D, groups of 32, gamma 0.01, no path
length, no style mixing, a 500k-image half-life ramped up over 5% of the images shown,
100,000 kimg; give it the dataset with labels (e.g. --config.dataset=tfds:cifar10).
`:fashion` is an offline CPU demonstration on Fashion-MNIST at 32x32, unconditional: the
reference's `auto` configuration at that size (batch 32, 2 mapping layers, residual D,
groups of 4, R1 gamma 0.0064 every 16 steps, path length 2 every 4, style mixing 0.9, a
10k-image half-life ramped up over 5%), narrowed: channels min(2048 / resolution, 128)
and a 128-d latent, where `auto` has 512 and 512.

Parameter counts equal the reference's: cifar (c_dim 10) G 20,215,315, D 23,089,664;
paper256 G 24,767,458, D 24,001,089 (tests/test_stylegan2.py).

What differs from the reference: float32 by default; with --config.compute_dtype=bfloat16
(for GPUs and TPUs) the blocks of the 4 highest resolutions compute in bfloat16, where
the reference runs them in float16 with loss scaling (the clamp at 256 is in every
layer either way, as there); generated
labels are the batch's real labels in a random order (the reference takes labels of
other random training images); minibatch-stddev groups take every (batch / group)-th
sample of the whole batch (the reference groups within one GPU's share: with `:cifar`,
two groups of 32 either way, but of other samples); gradients are one
mean over the batch (the reference sums the means of its rounds: Adam hardly sees it);
no non-finite-gradient cleaning (nan_to_num); no ADA.

No FID has been measured with this config yet.
"""

from jaxgan import base_config


def get_config(arg: str | None = None):
    config = base_config()
    config.family = "stylegan2"
    config.dataset = "folder:datasets/images"
    config.image_size = 256
    config.num_channels = 3
    config.latent_dim = 512
    config.batch_size = 64
    config.g_learning_rate = config.d_learning_rate = 0.0025
    config.g_beta1 = config.d_beta1 = 0.0
    config.g_beta2 = config.d_beta2 = 0.99
    config.stylegan2_channel_base = 16384
    config.stylegan2_mbstd_group_size = 8
    config.stylegan2_r1_gamma = 1.0
    config.stylegan2_ema_kimg = 20.0
    config.num_train_steps = 25_000_000 // config.batch_size
    config.checkpoint_every_steps = 5_000
    if arg == "cifar":
        config.dataset = "tfds:cifar10"
        config.image_size = 32
        config.conditional = True
        config.num_classes = 10
        config.stylegan2_mapping_layers = 2
        config.stylegan2_channel_base = 32768
        config.stylegan2_d_architecture = "orig"
        config.stylegan2_mbstd_group_size = 32
        config.stylegan2_r1_gamma = 0.01
        config.stylegan2_pl_weight = 0.0
        config.stylegan2_style_mixing = 0.0
        config.stylegan2_ema_kimg = 500.0
        config.stylegan2_ema_rampup = 0.05
        config.num_train_steps = 100_000_000 // config.batch_size
    elif arg == "fashion":
        # The reference's `auto` configuration at 32 px and one GPU's batch (train.py:
        # batch min(4096 / res, 32), stddev groups min(batch, 4), gamma 0.0002 res^2 /
        # batch, EMA batch x 10 / 32 kimg ramped over 5%, 2 mapping layers, residual D,
        # path length and style mixing on), narrowed for a CPU.
        config.dataset = "fashion_mnist"
        config.fid_reference = "fashion_mnist:test"
        config.image_size = 32
        config.num_channels = 1
        config.latent_dim = 128
        config.batch_size = 32
        config.stylegan2_mapping_layers = 2
        config.stylegan2_channel_base, config.stylegan2_channel_max = 2048, 128
        config.stylegan2_mbstd_group_size = 4
        config.stylegan2_r1_gamma = 0.0002 * 32**2 / config.batch_size
        config.stylegan2_ema_kimg = config.batch_size * 10 / 32
        config.stylegan2_ema_rampup = 0.05
        config.num_train_steps = 10_000
        config.checkpoint_every_steps = 500
    elif arg not in (None, ""):
        raise ValueError(f"configs/stylegan2.py takes '', 'cifar' or 'fashion', got {arg!r}")
    return config
