"""The fully-connected GAN of Goodfellow et al. 2014 (arXiv:1406.2661) on MNIST.

Run:
  python -m jaxgan.main --config=configs/vanilla_gan.py --workdir=runs/vanilla_gan

G: two ReLU hidden layers then a tanh output; D: two maxout hidden layers (the
paper's MNIST setup, without dropout). Sample quality has not been measured in jaxgan
yet.
"""

from jaxgan import base_config


def get_config(arg: str | None = None):
    del arg
    config = base_config()
    config.model = "mlp"
    config.g_width = 1200
    config.d_width = 240
    config.d_norm = "none"
    config.batch_size = 100
    config.num_train_steps = 20000
    # The paper trained both nets with momentum SGD; Adam at DCGAN's settings is
    # what current re-implementations use and converges far more reliably.
    return config
