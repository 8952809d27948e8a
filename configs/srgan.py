"""SRResNet and SRGAN (Ledig et al. 2017): the `srgan` family (jaxgan/families/srgan.py).

Run, the paper's two stages (photos: any folder of high-resolution images):
  python -m jaxgan.main --config=configs/srgan.py --config.dataset=folder:DIR/photos \
      --workdir=runs/srresnet
  python -m jaxgan.main --config=configs/srgan.py:gan --config.dataset=folder:DIR/photos \\
      --config.srgan_vgg_weights=vgg19-dcbb9e9d.pth --config.init_from=runs/srresnet \\
      --workdir=runs/srgan
  python -m jaxgan.upscale --workdir=runs/srgan --input=small.png --out=big.png
  python -m jaxgan.evaluate --workdir=runs/srgan --num_samples=1000

The paper's settings: x4, 96-px high-resolution crops made low-resolution by bicubic
downscaling, batch 16, Adam (beta1 0.9) at 1e-4; SRResNet trained on the MSE for 10^6
updates; SRGAN from it, 10^5 updates at 1e-4 then 10^5 at 1e-5 (here: 2 x 10^5 at 1e-4,
or two runs), content loss + 1e-3 x adversarial loss.

Content loss: `:gan` on photos uses the paper's VGG loss (VGG19 phi_5,4 after ReLU,
/ 12.75) from torchvision's weights, which cannot be downloaded at run time: give
torchvision's vgg19-dcbb9e9d.pth once with --config.srgan_vgg_weights=PATH (checked,
converted and cached); --config.srgan_content=inception uses the FID Inception
network's pool3 features instead (offline; not the paper's loss); the SRResNet stage and
the Fashion-MNIST demonstrations use the pixel MSE.

What differs from the paper: training images are made square (the largest centred
square) at 384 px (`translation_load_size`) before the random 96-px crops, where the
paper crops full-resolution ImageNet images; bicubic is Pillow's, not MATLAB's imresize.
Images in [-1, 1] (the paper scales its low-resolution inputs to [0, 1]).

Measured (`:fashion4`, seed 0, 1,000 test images, Y, 4-px border): SRResNet 19.97 dB /
SSIM 0.625 / FID 64.6 against bicubic's 15.55 dB / 0.394 / 228.2; SRGAN from it (1,500
steps): 19.71 dB / 0.609 / FID 59.3 (README).

`:fashion4` and `:fashion2` are the offline demonstrations on Fashion-MNIST (28-px
images, x4 from 7 px and x2 from 14 px; test split for evaluation); `:gan` (also
`:fashion4,gan`) is the second stage.
"""

from jaxgan import base_config


def get_config(arg: str | None = None):
    parts = [part for part in (arg or "").split(",") if part]
    config = base_config()
    config.family = "srgan"
    config.dataset = "folder:datasets/photos"
    config.image_size = 96
    config.translation_load_size = 384
    config.num_channels = 3
    config.batch_size = 16
    config.g_width = config.d_width = 64
    config.srgan_scale = 4
    config.srgan_blocks = 16
    config.g_learning_rate = config.d_learning_rate = 1e-4
    config.g_beta1 = config.d_beta1 = 0.9
    config.g_beta2 = config.d_beta2 = 0.999
    config.srgan_stage = "mse"
    config.num_train_steps = 1_000_000
    config.checkpoint_every_steps = 10_000
    for part in parts:
        if part in ("fashion4", "fashion2"):
            config.dataset = "fashion_mnist"
            config.fid_reference = "fashion_mnist:test"
            config.image_size = 28
            config.translation_load_size = 0  # whole images
            config.translation_flip = True
            config.num_channels = 1
            config.srgan_scale = 4 if part == "fashion4" else 2
            config.num_train_steps = 5000
            config.checkpoint_every_steps = 1000
        elif part == "gan":
            config.srgan_stage = "gan"
            config.num_train_steps = 200_000 if config.dataset.startswith("folder") else 5000
        else:
            raise ValueError(
                f"configs/srgan.py takes 'fashion4', 'fashion2' and/or 'gan', got {arg!r}"
            )
    if config.srgan_stage == "gan" and config.dataset != "fashion_mnist":
        # The paper's VGG loss on photos; the Fashion-MNIST demonstrations keep the pixel
        # MSE (measured so, and needing no weights file).
        config.srgan_content = "vgg"
    return config
