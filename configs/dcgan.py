"""DCGAN (Radford et al. 2015, arXiv:1511.06434).

Run:
  python -m jaxgan.main --config=configs/dcgan.py --workdir=runs/dcgan
  python -m jaxgan.main --config=configs/dcgan.py:64 --workdir=runs/dcgan64

`dcgan.py` is the default: the DCGAN at 28x28 on the embedded MNIST with the paper's
optimiser (Adam 2e-4, beta1 0.5, global batch 128). Measured (README, "Evaluation"):
after 5,000 steps, FID 23.3 +- 1.4 (3 seeds) with 10k samples against the 10k MNIST
test images; after 400 steps (about 10 minutes on 2 CPU cores) the sample grid already
shows digit-like strokes.

`dcgan.py:64` is exactly the pytorch/examples DCGAN: 64x64x3, nz=100, ngf=ndf=64
(512 channels at 4x4), 4x4 kernels, no conv biases, BatchNorm in G everywhere but the
output and in D everywhere but the first and last layers (3,576,704 G parameters and
2,765,568 D parameters). On MNIST, digits are resized to 64x64 and repeated to RGB.
"""

from jaxgan import base_config


def get_config(arg: str | None = None):
    config = base_config()
    if arg in (None, "", "28"):
        return config
    if arg == "32":
        config.image_size = 32
        return config
    if arg == "64":
        config.image_size = 64
        config.num_channels = 3
        return config
    raise ValueError(f"configs/dcgan.py takes 28, 32 or 64 after ':', got {arg!r}")
