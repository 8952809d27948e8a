"""BiGAN (Donahue et al. 2017, "Adversarial Feature Learning", arXiv:1605.09782), the
permutation-invariant MNIST setting of its code (github.com/jeffdonahue/bigan,
`train_mnist.sh`).

Run:
  python -m jaxgan.main --config=configs/bigan.py --workdir=runs/bigan
  python -m jaxgan.evaluate --workdir=runs/bigan     # FID, and E's 1-NN accuracy and
                                                     # G(E(x)) reconstruction error
  python -m jaxgan.encode --workdir=runs/bigan --split=test --out=features.npz

As the reference: MLP nets of 1024 units (jaxgan/families/_bigan_nets.py), a 50-d latent
uniform on [-1, 1], E deterministic (z = 2 sigmoid(E's output) - 1), Adam 2e-4 with
beta1 0.5 and L2 weight decay 2.5e-5 on every net, batch 128, E, G and D updated
simultaneously. 25 epochs of the 60,000 training images (11,719 steps) is the README's
first published point: 1-NN accuracy of E's output 95.41%.

Differences from the reference, all small: jaxgan trains on all 60,000 training
images (the reference holds out 10,000 as validation and reports on them); the
1-NN queries are MNIST's 10,000 test images; BatchNorm's test-mode statistics are
running averages (momentum 0.9), where the reference averages 1000 training batches;
the reference decays the learning rate after epoch 200, which 25 epochs never reach.
"""

from jaxgan.config.defaults import base_config

EPOCH_STEPS = 469  # ceil(60000 / 128)


def get_config(arg: str | None = None):
    config = base_config()
    config.family = "bigan"
    config.bigan_nets = "mlp"
    config.bigan_encoder = "deterministic"
    config.bigan_latent = "uniform"
    config.bigan_weight_decay = 2.5e-5
    config.latent_dim = 50
    config.batch_size = 128
    config.image_size = 28
    config.num_channels = 1
    config.g_learning_rate = config.d_learning_rate = 2e-4
    config.g_beta1 = config.d_beta1 = 0.5
    config.g_beta2 = config.d_beta2 = 0.999
    epochs = int(arg) if arg else 25
    config.num_train_steps = epochs * EPOCH_STEPS
    config.log_every_steps = EPOCH_STEPS
    config.checkpoint_every_steps = 5 * EPOCH_STEPS
    return config
