"""SNGAN with the DCGAN-style discriminator (Miyato et al. 2018, arXiv:1802.05957).

Run:
  python -m jaxgan.main --config=configs/sngan.py --workdir=runs/sngan
  python -m jaxgan.main --config=configs/sngan.py:32 --workdir=runs/sngan32
  python -m jaxgan.main --config=configs/sngan.py:cnn --workdir=runs/sngan_cnn

Spectral normalization on every D layer, the hinge loss, n_dis = 1 and Adam (2e-4,
beta1 0.5, beta2 0.999) -- setting C of the paper's Table 1, its best for the standard
CNN. By default NOT the paper's network: the nets are jaxgan's DCGAN (D: two stride-2
4x4 convolutions and a full-size output convolution), where the paper's "standard CNN" D
has seven convolutions (64 to 512 channels, LeakyReLU 0.1) and a linear layer; its FID
of 29.3 on CIFAR-10 is for that network, not this one.

`:cnn` trains the paper's standard CNN (config.model = "sndcgan",
jaxgan/nn/models/sndcgan.py, as its authors' code builds it; 128-d latent) with
everything else as above, batch 128 and 5,000 steps included (the paper: batch 64,
100k+ steps on CIFAR-10), so that it compares with the DCGAN-net runs below. Not yet
measured: its step costs 30x theirs (15.2 s at batch 128 on one shared core of the
2-core AMD EPYC, `python -m jaxgan.bench --config=configs/sngan.py:cnn`, 2026-12-07),
so 5,000 steps are about 21 hours on that CPU: a GPU run.

Measured on MNIST (2026-12-07, seeds 0-2, 5,000 steps; 10k samples against the 10k test
images, launch/config_fids.sh): FID 43.4 ± 2.1, KID 0.035, precision 0.17, recall 0.54
-- worse than the default DCGAN's 23.3 ± 1.4 at the same length; D ends near chance
(hinge d_loss ~1.8), as it did before spectral norm started from the raw weights (seed
0 then: FID 39.1) (README, "Evaluation"). The cause is spectral norm on this small D,
not the hinge loss: with BatchNorm in D instead (`--config.d_norm=batch_norm`) the same
run scores FID 21.00, with spectral norm and the non-saturating loss 38.21 (seed 0 each).
"""

from jaxgan import base_config


def get_config(arg: str | None = None):
    """`arg`: comma-separated options: `32` (32x32 images), `cnn` (the paper's standard
    CNN, jaxgan/nn/models/sndcgan.py, with its 128-d latent)."""
    config = base_config()
    config.loss = "hinge"
    config.d_norm = "spectral_norm"
    options = [part for part in (arg or "").split(",") if part]
    unknown = sorted(set(options) - {"28", "32", "cnn"})
    if unknown:
        raise ValueError(
            f"configs/sngan.py takes 28, 32 and cnn after ':' (comma-separated), got {unknown}"
        )
    if "32" in options:
        config.image_size = 32
    if "cnn" in options:
        config.model = "sndcgan"
        config.latent_dim = 128
    return config
