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
simultaneously, trained on the 50,000 images of `mnist:train50k` and scored on the
10,000 of `mnist:valid` (the reference's split), with the reference's test-time
BatchNorm statistics (jaxgan/metrics/bigan.py). 25 epochs (9,775 steps) is its README's
first published point: 1-NN accuracy of E's output 95.41%. `:N` trains N epochs; from
epoch 200 the reference decays the learning rate exponentially to 1% by epoch 400,
which jaxgan does not (yet): runs longer than 200 epochs are not the reference's.

Differences from the reference, all small: BatchNorm's epsilon is Flax's 1e-5 (the
reference's 1e-8), and its running averages (momentum 0.9, used for samples and FID)
are jaxgan's; the reference decays Adam's beta1 by a factor 1 - 1e-8 per step.
"""

from jaxgan import base_config

EPOCH_STEPS = 391  # ceil(50000 / 128)


def get_config(arg: str | None = None):
    config = base_config()
    config.family = "bigan"
    config.dataset = "mnist:train50k"
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
