"""BigGAN (Brock et al. 2019, arXiv:1809.11096): at 32x32 as the reference code's CIFAR-10
script sets it up (BigGAN-PyTorch `scripts/launch_cifar_ema.sh`), and (`:64`, `:128`)
with the paper's ImageNet settings, on jaxgan's `biggan` nets (jaxgan/nn/models/
biggan.py: BigGAN-PyTorch's architecture tables on jaxgan's ResNet blocks). NOT yet the
reference: the differences below are listed, and no FID has been measured.

`:128` (and `:64`): the nets of BigGAN-PyTorch's launch_BigGAN_bs256x8.sh (ch 96, z of
120 numbers cut into one chunk for the input and one per block, a shared 128-d class
embedding feeding every conditional BatchNorm, self-attention at 64 px; parameter
counts at 128 px and 1000 classes equal the reference's: G 70,433,988, D 87,982,370),
trained with the paper's settings: G lr 5e-5, D lr 2e-4, Adam (0, 0.999), 2 D steps,
orthogonal regularisation 1e-4 (BigGAN-PyTorch's utils.ortho convention: README,
"g_orthogonal_reg"), EMA 0.9999 from iteration 20000. Batch 256 (the paper: 2048, which
the reference reaches by accumulating 8 batches of 256; jaxgan does not accumulate).
Where the script differs from the paper (it trains 1 D step at G lr 1e-4, D lr 4e-4, no
orthogonal regularisation, Adam eps 1e-6, SN eps 1e-6, G in eval mode for samples), the
paper's is taken, except the epsilons (below). The script's orthogonal initialisation of
every conv, linear and embedding weight (its `--G_init ortho --D_init ortho`; attention,
conditional BatchNorm and shared embedding included) is `resnet_init="biggan_ortho"`
(jaxgan/nn/inits.py).

Run (bring CIFAR-10: README, "Datasets"):
  python -m jaxgan.main --config=configs/biggan.py --workdir=runs/biggan \\
      --config.dataset=tfds:cifar10 --config.data_dir=DIR

What is the reference's (read from BigGAN-PyTorch's BigGAN.py, layers.py and the script):
- G: a linear layer from z (128) to 4x4x256, three up-blocks (BN-ReLU-upsample-conv3x3-
  BN-ReLU-conv3x3, a 1x1 convolution shortcut) with class-conditional BatchNorm (per-
  class gain and bias tables, the script's non-shared embedding), BN-ReLU-conv3x3-tanh;
  D: the optimised first block, three more (downsampling twice), ReLU, sum pooling, a
  linear output plus the projection of a class embedding. Both 256 channels wide,
  spectral normalisation in both. Parameter counts equal the reference's at these
  settings: G 4,304,387, D 4,207,361 (tests/test_biggan.py; counted from the reference
  code instantiated with CPU torch).
- Hinge loss; 4 D steps per G step, each on its own real batch; Adam 2e-4 for both,
  betas (0, 0.999), eps 1e-8; batch 50; no attention and no orthogonal regularisation
  (the script's G_attn 0, D_attn 0, G_ortho 0); G's moving average with decay 0.9999
  from iteration 1000 (a copy of G before), which samples and FID use.
- D sees fakes and reals in one pass, [fakes; reals] (d_joint_pass): one spectral-norm
  power step per D step.
- Its initialisation (resnet_init="biggan"): weights N(0, 0.02), biases at PyTorch's
  default U(+-1/sqrt(fan_in)), class gains 1 + N(0, 0.02) (a table of gains here, 1 +
  a table there: the same function and gradient), class biases N(0, 0.02).

What differs (to do before calling it the reference):
- Spectral norm's epsilon: the reference clamps a vector's norm at 1e-8 (the script's
  SN_eps), Flax adds 1e-12 to the squared norm; they differ only for norms below ~1e-6,
  which the power iteration's vectors (norm ~ the largest singular value) do not reach.
  (Spectrally normalised layers now start from the raw N(0, 0.02) weight, as the
  reference's: jaxgan/nn/normalization.py; before 2026-12-07 Flax's wrapper stored the
  weight divided by a first sigma estimate.)
- (The EMA is the reference's: it averages BatchNorm statistics and spectral-norm
  vectors too, `ema_collections`, and copies G before iteration `ema_start`.)
- The reference samples its EMA G in training mode (batch statistics): set
  `--config.sample_with_running_stats=False` for that.
- (Standing statistics are implemented: `:128` and `:64` sample with 16 batches of them,
  as BigGAN-PyTorch's sampling with --accumulate_stats; `--config.standing_stats_batches`
  for any run.)
"""

from jaxgan import base_config


def get_config(arg: str | None = None):
    if arg not in (None, "", "64", "128"):
        raise ValueError(f"configs/biggan.py takes nothing, '64' or '128', got {arg!r}")
    config = base_config()
    config.model = "biggan"
    config.conditional = True
    config.conditional_form = "projection"
    config.loss = "hinge"
    config.d_norm = "spectral_norm"
    config.g_spectral_norm = True
    config.d_steps = 4
    config.g_learning_rate = config.d_learning_rate = 2e-4
    config.g_beta1 = config.d_beta1 = 0.0
    config.g_beta2 = config.d_beta2 = 0.999
    config.batch_size = 50
    config.latent_dim = 128
    config.image_size = 32
    config.num_channels = 3
    config.g_width = config.d_width = 64  # ch: the 32-px blocks are 4 x 64 = 256 wide
    config.g_ema_decay = 0.9999
    config.ema_start = 1000
    config.ema_collections = True  # its ema averages BN statistics and SN vectors too
    config.resnet_init = "biggan"
    config.d_joint_pass = True
    config.num_train_steps = 100000
    config.checkpoint_every_steps = 2000
    if arg in ("64", "128"):
        # The paper's ImageNet settings (section 3, appendix C) on the nets of BigGAN-
        # PyTorch's launch_BigGAN_bs256x8.sh.
        config.image_size = int(arg)
        config.g_width = config.d_width = 96
        config.latent_dim = 120  # 6 chunks of 20 at 128 px, 5 of 24 at 64 px
        config.biggan_shared_dim = 128
        config.biggan_hierarchical = True
        config.attention_resolution = 64
        config.resnet_init = "biggan_ortho"  # the paper's orthogonal initialisation
        config.g_learning_rate, config.d_learning_rate = 5e-5, 2e-4
        config.d_steps = 2
        config.g_orthogonal_reg = 1e-4
        config.batch_size = 256
        config.ema_start = 20000
        config.num_train_steps = 500000
        config.standing_stats_batches = 16  # samples and FID: BigGAN-PyTorch's 16 batches
        config.checkpoint_every_steps = 2000
    return config
