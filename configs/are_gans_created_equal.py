"""The losses of Lucic et al. 2018, "Are GANs Created Equal? A Large-Scale Study"
(arXiv:1711.10337), with their one architecture, on MNIST or Fashion-MNIST:
`LOSS[,DATASET]`.

Run one, or the whole comparison (every loss x 3 seeds x both datasets, then the table
beside the paper's numbers):
  python -m jaxgan.main --config=configs/are_gans_created_equal.py:ns --workdir=runs/lucic-ns
  python -m jaxgan.evaluate --workdir=runs/lucic-ns --num_samples=10000
  launch/are_gans_created_equal.sh sweeps/lucic

LOSS: `mm` (minimax), `ns` (non-saturating), `lsgan`, `wgan`, `wgan_gp`, `dragan` (the
study's BEGAN and VAE are not in jaxgan). DATASET: `mnist` (default) or `fashion_mnist`.

Read from the study's code, github.com/google/compare_gan at its first version
(`compare_gan/src/`; file names below are in it):
  - Networks: the InfoGAN-style G and D of gans/abstract_gan.py, jaxgan/nn/models/infogan.py
    (its docstring lists the layers); z of 64 numbers, U[-1, 1] (gan_lib.py); images in
    [0, 1].
  - Each loss's settings are the study's defaults (params.py), the first point of its
    wide hyperparameter search: MM and NS Adam lr 5e-5, beta1 0, BatchNorm in D; LSGAN
    2e-4, 0.5, BatchNorm; WGAN 5e-5, 0.5, BatchNorm, 5 D updates per G update, clipping
    0.01; WGAN-GP 1e-4, 0.5, no BatchNorm, 5 D updates, lambda 10; DRAGAN 1e-4, 0.5,
    BatchNorm, lambda 10. G and D share the rate and beta1; beta2 0.999.
  - Losses (gans/GAN.py, LSGAN.py, WGAN.py, WGAN_GP.py, DRAGAN.py): MM and NS as
    jaxgan's minimax and non_saturating; LSGAN on D's probabilities with the 1/2 factors
    (least_squares_sigmoid); WGAN clips every D variable, BatchNorm's scale and shift
    included (jaxgan's d_weight_clip clips every D parameter) and trains with Adam;
    WGAN-GP's penalty on the logit at x + a (G(z) - x), a ~ U[0, 1] per sample; DRAGAN
    the non-saturating loss plus the penalty on D's probability (dragan_sigmoid) at
    points between x and x + 0.5 std(x) u, u ~ U[0, 1). Both penalties' gradients are
    taken with respect to the study's [0, 1] images (the model's IMAGE_RANGE).
  - Length: the study counts 20 epochs of 50,000 images in batches of 64, 15,625 D
    updates, on the 60k training images (so 16.7 passes over them), as here; with 5 D
    updates per G update jaxgan counts 3,125 steps of 5 (d_steps). Checkpoints every
    3,906 D updates and at the end (the fourth and the last one update apart, as the
    study's), all kept: the study scores each and reports the best.
  - FID: 10,000 samples against the 10,000 test images (eval_gan_lib.py):
    fid_reference `DATASET:test`; pass --num_samples=10000 to jaxgan.evaluate.
Not the same:
  - The random numbers: jaxgan's G turns an N(0, 1) draw into U[-1, 1] (the model's
    docstring), and the data are shuffled whole each epoch (the study: a 10k buffer).
  - WGAN-GP: the study draws a new z for G's update (jaxgan: the D update's z). WGAN-GP
    and DRAGAN put 1e-4 under the penalty's square root (jaxgan: 1e-12). Adam's epsilon sits where
    TensorFlow's does not (see configs/mode_collapse.py's note): negligible here.
  - The study's inception network is TF-GAN's graph of the same 2015-12-05 weights;
    jaxgan's FID uses its own port of them (jaxgan/metrics/inception.py), images
    upsampled to 299 px as the FID reference code does.
  - The study reports the best FID over a search of 100 settings per loss (and 50 seeds
    of the best); this config is its first, default setting only, so the paper's numbers
    bound what it reaches rather than predict it.
Run so far (README, "Are GANs Created Equal?"): MNIST seeds 0 and 1 of WGAN-GP (FID 27.6
and 24.5; the study's best 20.3), seed 0 of NS (FID 31.3; its best 6.8) and of LSGAN
(22.5; its best 7.8). NS and LSGAN at their default settings stall for about 9,000
steps (D wins, G's samples stay grey noise) before G escapes and learns digits; one NS
step agrees with a PyTorch reference of these nets (tests/test_infogan.py). The table
comes from launch/are_gans_created_equal.sh.
"""

from jaxgan import base_config

# loss -> (jaxgan loss, penalty, learning rate, beta1, D BatchNorm, D updates per G update)
SETTINGS = {
    "mm": ("minimax", "none", 5e-5, 0.0, True, 1),
    "ns": ("non_saturating", "none", 5e-5, 0.0, True, 1),
    "lsgan": ("least_squares_sigmoid", "none", 2e-4, 0.5, True, 1),
    "wgan": ("wasserstein", "none", 5e-5, 0.5, True, 5),
    "wgan_gp": ("wasserstein", "wgan_gp", 1e-4, 0.5, False, 5),
    "dragan": ("non_saturating", "dragan_sigmoid", 1e-4, 0.5, True, 1),
}
DATASETS = ("mnist", "fashion_mnist")
D_UPDATES = 20 * 50_000 // 64  # 15,625
CHECKPOINT_D_UPDATES = D_UPDATES // 4  # 3,906


def get_config(arg: str | None = None):
    loss, dataset, *extra = (arg or "ns").split(",") + [""]
    dataset = dataset or "mnist"
    if any(extra) or loss not in SETTINGS or dataset not in DATASETS:
        raise ValueError(
            f"configs/are_gans_created_equal.py takes LOSS[,DATASET] with LOSS in "
            f"{tuple(SETTINGS)} and DATASET in {DATASETS}, got {arg!r}"
        )
    jaxgan_loss, penalty, learning_rate, beta1, d_batch_norm, d_steps = SETTINGS[loss]
    config = base_config()
    config.dataset = dataset
    config.fid_reference = f"{dataset}:test"
    config.model = "infogan"
    config.image_size, config.num_channels = 28, 1
    config.latent_dim = 64
    config.batch_size = 64
    config.loss = jaxgan_loss
    config.penalty = penalty
    config.penalty_weight = 10.0
    config.d_weight_clip = 0.01 if loss == "wgan" else 0.0
    config.d_norm = "batch_norm" if d_batch_norm else "none"
    config.g_learning_rate = config.d_learning_rate = learning_rate
    config.g_beta1 = config.d_beta1 = beta1
    config.g_beta2 = config.d_beta2 = 0.999
    config.d_steps = d_steps
    config.num_train_steps = -(-D_UPDATES // d_steps)  # 15,625 or 3,125
    config.checkpoint_every_steps = CHECKPOINT_D_UPDATES // d_steps
    config.keep_checkpoints = 5
    return config
