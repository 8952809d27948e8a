"""The self-supervised GAN (Chen et al. 2019, arXiv:1811.11212): the `ssgan` family
(jaxgan/families/ssgan.py) on compare_gan's ResNet CIFAR-10 settings.

Run:
  python -m jaxgan.main --config=configs/ssgan.py --workdir=runs/ssgan
  python -m jaxgan.main --config=configs/ssgan.py:base --workdir=runs/ssgan_base

`:base` is the same GAN with both rotation weights 0: the base GAN, bit for bit, to
compare against (python -m jaxgan.launch.sweep over both, 3 seeds).

Settings of google/compare_gan's `resnet_cifar10.gin` (read, not run): the SNGAN
ResNet (G 256 channels with BatchNorm, D 128 with spectral normalisation on every layer),
the non-saturating loss, 5 D updates per G update, Adam lr 2e-4 (beta1 0.5, beta2 0.999)
for both, batch 64, z of 128 N(0, 1) numbers, 40k G updates. SS-GAN's: D's rotation
loss weight beta = 1, G's alpha = 0.2, every image of the batch in its 4 rotations
(compare_gan's `rotated_batch_size` = 4 x 64; its gin files give no value; 4 x batch is
the paper's expectation over rotations and what kwotsin/mimicry trains). D runs once over
[fakes; reals] per update (d_joint_pass), as compare_gan's single call.

What differs from compare_gan: G ends in tanh with images in [-1, 1] (compare_gan: a
sigmoid and [0, 1]); G's BatchNorm uses moving averages at sampling (compare_gan's
`use_moving_averages = False` normalises by the sample batch's statistics); jaxgan's
ResNet initialisers (SNGAN's); D's GAN logit on sum-pooled features (compare_gan's D
mean-pools; the rotation head mean-pools as compare_gan's); G's update on the fakes of
the last D update (compare_gan: a fresh batch of z). Published (kwotsin/mimicry,
CIFAR-10, 100k iterations, n_dis 5, batch 64): SS-GAN IS 8.17, FID 14.65 against
SNGAN's 7.97, 16.77. Not measured here yet: on the embedded MNIST (the default, 32 px
RGB) or on CIFAR-10 (`--config.dataset=tfds:cifar10 --config.data_dir=DIR`).
"""

from jaxgan import base_config


def get_config(arg: str | None = None):
    config = base_config()
    config.family = "ssgan"
    config.model = "resnet"
    config.loss = "non_saturating"
    config.d_norm = "spectral_norm"
    config.d_steps = 5
    config.d_joint_pass = True
    config.g_learning_rate = config.d_learning_rate = 2e-4
    config.g_beta1 = config.d_beta1 = 0.5
    config.g_beta2 = config.d_beta2 = 0.999
    config.batch_size = 64
    config.latent_dim = 128
    config.image_size = 32
    config.num_channels = 3
    config.g_width = 256
    config.d_width = 128
    config.num_train_steps = 40000
    config.checkpoint_every_steps = 5000
    config.rotation_weight_d = 1.0
    config.rotation_weight_g = 0.2
    config.rotated_batch_size = 4 * config.batch_size
    if arg == "base":
        config.rotation_weight_d = config.rotation_weight_g = 0.0
    elif arg not in (None, ""):
        raise ValueError(f"configs/ssgan.py takes nothing or 'base', got {arg!r}")
    return config
